# Keep only export()/S3method() directives whose functions are defined in the R/ subset we rebuilt.
env <- new.env()
for (f in list.files("/work/coinr_golden/COINr/R", full.names = TRUE)) sys.source(f, envir = env)
defined <- ls(env, all.names = TRUE)
ns <- readLines("/work/coinr_golden/NAMESPACE.cran_1.1.14.orig")
keep <- vapply(ns, function(l) {
  if (grepl("^export\\(", l)) {
    fn <- sub("^export\\((.*)\\)$", "\\1", l); return(fn %in% defined)
  }
  if (grepl("^S3method\\(", l)) {
    p <- strsplit(sub("^S3method\\((.*)\\)$", "\\1", l), ",")[[1]]
    return(paste0(p[1], ".", p[2]) %in% defined)
  }
  TRUE
}, logical(1))
writeLines(ns[keep], "/work/coinr_golden/COINr/NAMESPACE")
cat("dropped directives:\n"); cat(ns[!keep], sep = "\n")
