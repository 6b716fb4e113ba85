SELECT content, positive, split FROM `${reviews}`
