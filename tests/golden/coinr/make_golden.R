# make_golden.R
# Produces golden reference outputs from COINr 1.1.14 (locally rebuilt, see NOTES.md) on the ASEM data.
# Run with:  R_LIBS=/work/coinr_golden/rlib Rscript /work/coinr_golden/make_golden.R
#
# All numbers written here come straight out of COINr functions (build_example_coin, new_coin,
# Normalise, Aggregate, get_results); this script only calls them and writes CSVs.

.libPaths(c("/work/coinr_golden/rlib", .libPaths()))
suppressPackageStartupMessages(library(COINr))

out_dir <- "/work/coinr_golden/out"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

# ---- writing helpers -------------------------------------------------------

# format numeric columns with 15 significant digits, keep uCode first
fmt_df <- function(df) {
  df <- as.data.frame(df, stringsAsFactors = FALSE)
  for (cc in names(df)) {
    x <- df[[cc]]
    if (is.numeric(x)) {
      s <- sprintf("%.15g", x)
      s[is.na(x) & !is.nan(x)] <- NA   # real NA -> NA
      s[is.nan(x)] <- "NaN"
      df[[cc]] <- s
    } else if (is.logical(x)) {
      df[[cc]] <- ifelse(is.na(x), NA, ifelse(x, "TRUE", "FALSE"))
    }
  }
  if ("uCode" %in% names(df)) df <- df[c("uCode", setdiff(names(df), "uCode"))]
  rownames(df) <- NULL
  df
}

write_golden <- function(df, name) {
  f <- file.path(out_dir, paste0(name, ".csv"))
  utils::write.csv(fmt_df(df), f, row.names = FALSE, na = "NA", quote = TRUE)
  message("wrote ", f, " (", nrow(df), " x ", ncol(df), ")")
}

results_table <- function(coin, dset = "Aggregated") {
  # Rank from COINr's get_results(): rank(-Index, ties.method = "min", na.last = "keep"),
  # Index itself taken unrounded from the aggregated data set (get_results rounds scores).
  res <- get_results(coin, dset = dset, tab_type = "Summ", nround = 2)
  agg <- get_dset(coin, dset)
  idx_code <- coin$Meta$Ind$iCode[which(coin$Meta$Ind$Level == coin$Meta$maxlev)]
  stopifnot(length(idx_code) == 1, idx_code == "Index")
  data.frame(uCode = res$uCode,
             Index = agg[[idx_code]][match(res$uCode, agg$uCode)],
             Rank = res$Rank,
             stringsAsFactors = FALSE)
}

warn_log <- character(0)
with_warnings <- function(label, expr) {
  withCallingHandlers(expr, warning = function(w) {
    warn_log <<- c(warn_log, paste0("[", label, "] ", conditionMessage(w)))
    invokeRestart("muffleWarning")
  })
}

# ---- 1. build_example_coin() ----------------------------------------------

coin_ex <- with_warnings("build_example_coin", build_example_coin(quietly = TRUE))

for (dset in c("Raw", "Denominated", "Imputed", "Screened", "Treated", "Normalised", "Aggregated")) {
  write_golden(get_dset(coin_ex, dset), paste0("example_", dset))
}
write_golden(coin_ex$Analysis$Treated$Dets_Table, "example_Treated_Dets_Table")
tp <- coin_ex$Analysis$Treated$Treated_Points
write_golden(cbind(uCode = coin_ex$Data$Treated$uCode, tp), "example_Treated_Points")
write_golden(coin_ex$Analysis$Screened$DataSummary, "example_Screened_DataSummary")
write_golden(results_table(coin_ex), "example_results")

# ---- 2. pipelines on the Raw data set -------------------------------------

coin_raw <- with_warnings("new_coin",
  new_coin(iData = ASEM_iData, iMeta = ASEM_iMeta,
           level_names = c("Indicator", "Pillar", "Sub-index", "Index"), quietly = TRUE))

pipelines <- list(
  minmax_amean = list(
    global_specs = list(f_n = "n_minmax", f_n_para = list(l_u = c(0, 100))),
    f_ag = "a_amean"),
  zscore_amean = list(
    global_specs = list(f_n = "n_zscore", f_n_para = list(m_sd = c(0, 1))),
    f_ag = "a_amean"),
  minmax1_gmean = list(
    global_specs = list(f_n = "n_minmax", f_n_para = list(l_u = c(1, 100))),
    f_ag = "a_gmean"),
  minmax1_hmean = list(
    global_specs = list(f_n = "n_minmax", f_n_para = list(l_u = c(1, 100))),
    f_ag = "a_hmean"),
  prank_amean = list(
    global_specs = list(f_n = "n_prank"),
    f_ag = "a_amean")
)

for (nm in names(pipelines)) {
  p <- pipelines[[nm]]
  cn <- with_warnings(nm, suppressMessages(
    Normalise(coin_raw, dset = "Raw", global_specs = p$global_specs)))
  cn <- with_warnings(nm, suppressMessages(
    Aggregate(cn, dset = "Normalised", f_ag = p$f_ag)))
  write_golden(get_dset(cn, "Normalised"), paste0(nm, "_normalised"))
  write_golden(get_dset(cn, "Aggregated"), paste0(nm, "_aggregated"))
  write_golden(results_table(cn), paste0(nm, "_results"))
}

# ---- 3. the other normalisations and imputations ---------------------------
# Each on the Raw data set (as in section 2), aggregated with a_amean.

iref_unit <- get_dset(coin_raw, "Raw")$uCode[1]
writeLines(iref_unit, file.path(out_dir, "dist2ref_unit.txt"))

more <- list(
  rank_amean = list(f_n = "n_rank"),
  borda_amean = list(f_n = "n_borda"),
  fracmax_amean = list(f_n = "n_fracmax"),
  dist2max_amean = list(f_n = "n_dist2max"),
  dist2ref_amean = list(f_n = "n_dist2ref", f_n_para = list(iref = 1, cap_max = FALSE)),
  dist2targ_amean = list(f_n = "n_dist2targ", f_n_para = "use_iMeta"),
  scaled_amean = list(f_n = "n_scaled", f_n_para = list(npara = c(0, 10), scale_factor = 100))
)
for (nm in names(more)) {
  cn <- with_warnings(nm, suppressMessages(
    Normalise(coin_raw, dset = "Raw", global_specs = more[[nm]])))
  cn <- with_warnings(nm, suppressMessages(Aggregate(cn, dset = "Normalised", f_ag = "a_amean")))
  write_golden(get_dset(cn, "Normalised"), paste0(nm, "_normalised"))
  write_golden(get_dset(cn, "Aggregated"), paste0(nm, "_aggregated"))
}

# Goalposts from iMeta columns: lower/upper at 10 % and 90 % of each indicator's raw range.
raw <- get_dset(coin_raw, "Raw")
ind <- coin_raw$Meta$Ind$Type == "Indicator"
codes <- coin_raw$Meta$Ind$iCode[ind]
rng <- t(vapply(codes, function(cc) range(raw[[cc]], na.rm = TRUE), numeric(2)))
gp <- data.frame(iCode = codes,
                 goalpost_lower = rng[, 1] + 0.1 * (rng[, 2] - rng[, 1]),
                 goalpost_upper = rng[, 2] - 0.1 * (rng[, 2] - rng[, 1]),
                 goalpost_scale = 100, goalpost_trunc2posts = TRUE,
                 stringsAsFactors = FALSE)
write_golden(gp, "goalposts_table")
meta_gp <- merge(ASEM_iMeta, gp, by = "iCode", all.x = TRUE, sort = FALSE)
meta_gp <- meta_gp[match(ASEM_iMeta$iCode, meta_gp$iCode), ]
coin_gp <- with_warnings("goalposts", new_coin(iData = ASEM_iData, iMeta = meta_gp,
  level_names = c("Indicator", "Pillar", "Sub-index", "Index"), quietly = TRUE))
cn <- with_warnings("goalposts", suppressMessages(Normalise(coin_gp, dset = "Raw",
  global_specs = list(f_n = "n_goalposts", f_n_para = "use_iMeta"))))
cn <- with_warnings("goalposts", suppressMessages(Aggregate(cn, dset = "Normalised", f_ag = "a_amean")))
write_golden(get_dset(cn, "Normalised"), "goalposts_amean_normalised")
write_golden(get_dset(cn, "Aggregated"), "goalposts_amean_aggregated")

# Imputation by column mean and median (no groups), after the example's denomination.
for (fi in c("i_mean", "i_median")) {
  ci <- with_warnings(fi, suppressMessages(Impute(coin_ex, dset = "Denominated", f_i = fi,
                                                   write_to = "ImputedAlt")))
  write_golden(get_dset(ci, "ImputedAlt"), paste0("impute_", sub("i_", "", fi)))
}

# ---- provenance ------------------------------------------------------------

writeLines(c(
  paste("COINr version:", as.character(utils::packageVersion("COINr"))),
  paste("COINr installed at:", find.package("COINr")),
  paste("R:", R.version.string),
  paste0(c("openxlsx", "rlang", "ggplot2", "readxl"), ": ",
         vapply(c("openxlsx", "rlang", "ggplot2", "readxl"),
                function(p) as.character(utils::packageVersion(p)), "")),
  "",
  "Warnings raised by COINr during the runs:",
  if (length(warn_log)) unique(warn_log) else "(none)",
  "",
  utils::capture.output(sessionInfo())
), file.path(out_dir, "versions_and_warnings.txt"))

message("done")
