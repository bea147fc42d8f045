# Regenerates the synthdid numbers of REFERENCES.md (Prop 99 section) used by
# tests/reference/test_prop99_sdid.py.   Tested with: R 4.4, synthdid 0.0.9.
library(synthdid)
data("california_prop99")
sessionInfo()
setup <- panel.matrices(california_prop99)
estimates <- list(sdid = synthdid_estimate(setup$Y, setup$N0, setup$T0),
                  sc = sc_estimate(setup$Y, setup$N0, setup$T0),
                  did = did_estimate(setup$Y, setup$N0, setup$T0))
options(digits = 10)
for (name in names(estimates)) {
  set.seed(12345)
  est <- estimates[[name]]
  cat(name, c(est), sqrt(vcov(est, method = "placebo")), "\n")
}
w <- attr(estimates$sdid, "weights")
print(sort(setNames(w$omega, rownames(setup$Y)[seq_len(setup$N0)]), decreasing = TRUE)[1:10])
print(setNames(w$lambda, colnames(setup$Y)[seq_len(setup$T0)]))
