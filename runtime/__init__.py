"""rulelang runtime: runs compiled rule programs in a sandbox, and the sync engine around them."""
