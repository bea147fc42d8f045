# Regenerates the HonestDiD README numbers of REFERENCES.md (ehec section) used by
# tests/reference/test_honestdid_ehec.py.   Tested with: R 4.4, HonestDiD 0.2.6, fixest 0.12.
library(HonestDiD); library(fixest); library(dplyr)
df <- read.csv("../../../src/utvardering/data/files/ehec.csv")
sessionInfo()
df <- df %>% filter(year < 2016 & (is.na(yexp2) | yexp2 != 2015)) %>%
  mutate(D = ifelse(!is.na(yexp2) & yexp2 == 2014, 1, 0))
twfe <- feols(dins ~ i(year, D, ref = 2013) | stfips + year, cluster = "stfips", data = df)
betahat <- summary(twfe)$coefficients; sigma <- summary(twfe)$cov.scaled
print(betahat, digits = 10); print(sigma, digits = 10)
print(createSensitivityResults_relativeMagnitudes(betahat = betahat, sigma = sigma,
      numPrePeriods = 5, numPostPeriods = 2, Mbarvec = seq(0.5, 2, by = 0.5)))
print(createSensitivityResults(betahat = betahat, sigma = sigma, numPrePeriods = 5,
      numPostPeriods = 2, Mvec = seq(0, 0.05, by = 0.01)))
