# Build COINr-style data objects ASEM_iData / ASEM_iMeta from the shared CSVs
# (the original data/*.rda binaries of COINr 1.1.14 could not be fetched).
iData <- read.csv("/work/shared/data/indicators/asem_iData.csv", na.strings = c("", "NA"),
                  stringsAsFactors = FALSE, check.names = FALSE)
iMeta <- read.csv("/work/shared/data/indicators/asem_iMeta.csv", na.strings = c("", "NA"),
                  stringsAsFactors = FALSE, check.names = FALSE)
# types as COINr expects
for (cc in c("Level", "Direction", "Weight", "Target")) iMeta[[cc]] <- as.numeric(iMeta[[cc]])
for (cc in c("iCode", "iName", "Unit", "Denominator", "Parent", "Type")) iMeta[[cc]] <- as.character(iMeta[[cc]])
num_cols <- setdiff(names(iData), c("uName", "uCode", "GDP_group", "GDPpc_group", "Pop_group", "EurAsia_group"))
for (cc in num_cols) iData[[cc]] <- as.numeric(iData[[cc]])
ASEM_iData <- iData
ASEM_iMeta <- iMeta
str(ASEM_iMeta)
save(ASEM_iData, file = "/work/coinr_golden/COINr/data/ASEM_iData.rda", compress = "bzip2")
save(ASEM_iMeta, file = "/work/coinr_golden/COINr/data/ASEM_iMeta.rda", compress = "bzip2")
