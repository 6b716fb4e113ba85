DROP VECTOR INDEX IF EXISTS `${index}` ON `${table}`;
