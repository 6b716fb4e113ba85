-- Embeddings of ten sample rows, ready to paste into the console.
${embeddings}
