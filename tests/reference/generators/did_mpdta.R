# Regenerates the R `did` numbers of REFERENCES.md (mpdta section) that
# tests/reference/test_callaway_santanna.py asserts.
# Tested with: R 4.4, did 2.5.0.   Run: Rscript did_mpdta.R > did_mpdta.out
library(did)
data(mpdta, package = "did")
sessionInfo()
fit <- att_gt(yname = "lemp", tname = "year", idname = "countyreal", gname = "first.treat",
              data = mpdta, control_group = "nevertreated", est_method = "dr",
              bstrap = FALSE, cband = FALSE)
options(digits = 11)
print(data.frame(g = fit$group, t = fit$t, att = fit$att, se = fit$se))
for (type in c("simple", "group", "dynamic", "calendar")) {
  agg <- aggte(fit, type = type, bstrap = FALSE, cband = FALSE)
  cat("\n==", type, "\n")
  print(c(overall = agg$overall.att, se = agg$overall.se))
  if (!is.null(agg$egt)) print(data.frame(e = agg$egt, att = agg$att.egt, se = agg$se.egt))
}
# covariate-adjusted overall ATT (F1): the same with xformla = ~lpop
fit_x <- att_gt(yname = "lemp", tname = "year", idname = "countyreal", gname = "first.treat",
                xformla = ~lpop, data = mpdta, est_method = "dr", bstrap = FALSE)
print(aggte(fit_x, type = "simple", bstrap = FALSE)$overall.att)
