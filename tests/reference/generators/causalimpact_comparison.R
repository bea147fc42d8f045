# Regenerates the R CausalImpact numbers of REFERENCES.md used by
# tests/reference/test_causalimpact.py.   Tested with: R 4.4, CausalImpact 1.3.0, bsts 0.9.10.
library(CausalImpact)
sessionInfo()
data <- read.csv("../../../src/utvardering/data/files/causalimpact_comparison.csv")
series <- zoo::zoo(data[, c("CHANGED", "NOT_CHANGED_1", "NOT_CHANGED_2", "NOT_CHANGED_3")],
                   as.Date(data$DATE))
set.seed(1)
impact <- CausalImpact(series, pre.period = as.Date(c("2019-04-16", "2019-07-14")),
                       post.period = as.Date(c("2019-07-15", "2019-08-01")))
summary(impact)
