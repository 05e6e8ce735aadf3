# fuzz target: decode (added by its author)
