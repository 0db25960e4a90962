// AUSAM: J. Deng, J. Pang, B. Zhang, "Asymptotic Unbiased Sample Sampling to Speed Up
// Sharpness-Aware Minimization", arXiv 2406.08001; AAAI 2025. Official code
// github.com/ajiaaa/AUSAM (AUSAM/sam/ausam.py: sampledata_index, impt_roc, first_step,
// second_step_without_norm; AUSAM/train.py: the loop and the fmax schedule).
//   Per sample i a running mean ADLP_i of DLP_i = |l_i(w + e) − l_i(w)| over its visits.
//   Epoch 0: B' = B. Later: p_i ∝ minmax(ADLP_i over B) scaled to [fmin, fmax_e], and
//   k = ⌊alpha·n⌋ rows B' ~ multinomial(p) without replacement.
//   SAM on B' only: e = rho·g/||g|| with g = ∇L_{B'}(w);  w ← base_step(w, ∇L_{B'}(w + e)).
// Only the abstract and introduction of the paper could be read; the rule is the code's:
// - Store impt_i = (cumulative DLP, count, ADLP), all ones at the start. Epoch 0 writes
//   cumulative = ADLP = DLP_i (count stays 1); later visits add DLP_i to the cumulative, count + 1,
//   ADLP = cumulative/count, so the first later visit averages two values. A sample first met
//   after epoch 0 starts from (1, 1, 1), as the code's ones. Only the drawn rows are updated.
// - fmax_e = fmax − ((start_epoch + trans_epoch − e)/trans_epoch)·(fmax − fmin) + 1e-9 up to
//   e = start_epoch + trans_epoch, then frozen (e.g. fmin + 1e-9 at e = 0, fmax + 1e-9 from
//   e = 30). Here it is clamped at fmin from below, where the code's p could turn negative
//   (start_epoch > 0, early epochs) and torch.multinomial would fail.
// - Both passes use B' (the update gradient too): this is where the speed-up comes from.
// - beta of the code is unused there (its EMA line is commented out) and is not offered; the
//   code's rho scheduler is never called: rho is constant. ||g|| + 1e-12 as the code.
// Choices forced by this framework (the trainer hands an optimizer batches, not sample ids or
// epochs):
// - Sample identity: the code keys impt by dataset index. Here a sample is keyed by a 64-bit
//   FNV-1a hash of its input row and target row (bytes). Identical (input, target) rows share
//   one record; hash collisions are negligible at 64 bits. The store lives as long as the
//   optimizer, i.e. one stage of the pipeline (each stage builds a fresh optimizer).
// - Epochs: a new epoch begins at the first batch in which more than half of the samples were
//   already seen in the current epoch. The trainer draws a permutation per epoch, so no sample
//   comes back within an epoch and this is exactly its epoch boundary; the majority rule
//   tolerates rare duplicate rows and the single sample the trainer may drop at the end of an
//   epoch (with batches of 2 the boundary can then come one step late).
// - Guards (the code returns NaN or crashes there): if all ADLP of a batch are equal the
//   min-max scaling divides by zero; p is then uniform. B' never has fewer than min(2, n) rows
//   (a one-sample pass cannot go through BatchNorm in training mode).
// - Per-sample losses and DLP are unweighted; the passes use the context's (weighted) mean
//   over B'. The returned loss is that of B' at w (the code never computes the whole batch's).
// - Defaults: train.py (CIFAR-100, WRN-28-10): rho 0.1, alpha 0.5, fmin 0.1, fmax 0.5,
//   start_epoch 0, trans_epoch 30.
// State across steps: the per-sample store, the epoch and the epoch each sample was last seen
// (saved and loaded).
// Cost: 2 fwd / 2 bwd, on all n samples in epoch 0, on k = max(⌊alpha·n⌋, min(2, n)) later.
#include <torch/optim/serialize.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "core/hash.h"
#include "stages/optim/neighbourhood.h"
#include "stages/optim/optimizer.h"

namespace gda {
namespace {

/// One key per row of the batch: a hash of the row's input and target bytes.
std::vector<std::uint64_t> sample_keys(const StepContext& ctx) {
  const auto x = ctx.inputs().detach().to(torch::kCPU).contiguous();
  const auto y = ctx.targets().detach().to(torch::kCPU).contiguous();
  const std::int64_t n = x.size(0);
  std::vector<std::uint64_t> keys;
  if (n == 0) return keys;
  const auto x_bytes = static_cast<std::size_t>(x.numel() / n) * x.itemsize();
  const auto y_bytes = static_cast<std::size_t>(y.numel() / n) * y.itemsize();
  const auto* xp = static_cast<const unsigned char*>(x.data_ptr());
  const auto* yp = static_cast<const unsigned char*>(y.data_ptr());
  for (std::int64_t i = 0; i < n; ++i) {
    std::uint64_t h = fnv1a(xp + i * x_bytes, x_bytes, kFnvOffset);
    keys.push_back(fnv1a(yp + i * y_bytes, y_bytes, h));
  }
  return keys;
}

struct Record {
  double sum = 1, count = 1, adlp = 1;  ///< the code's impt row: cumulative DLP, visits, ADLP
  std::int64_t seen = -1;               ///< the last epoch in which the sample was in a batch
};

struct AusamOptions {
  double rho, alpha, fmin, fmax;
  std::int64_t start_epoch, trans_epoch;
};

AusamOptions ausam_options(const Params& p) {
  AusamOptions o;
  o.rho = p.real("rho");
  o.alpha = p.real("alpha");
  o.fmin = p.real("fmin");
  o.fmax = p.real("fmax");
  o.start_epoch = p.integer("start_epoch");
  o.trans_epoch = p.integer("trans_epoch");
  return o;
}

class Ausam : public OptimizerWith<AusamOptions> {
 public:
  using OptimizerWith::OptimizerWith;

  torch::Tensor step(StepContext& ctx) override {
    const auto keys = sample_keys(ctx);
    advance_epoch(keys);
    const auto rows = draw(keys, ctx.inputs().device());  // undefined: the whole batch
    torch::Tensor before, after;
    auto loss = ctx.loss_and_grad(rows, before);
    {
      Perturbed at(params_, sam_ascent(gradients(params_), o_.rho));  // w + e
      ctx.loss_and_grad(rows, after);  // ∇L_{B'}(w + e), left in .grad
    }
    record(keys, rows, (after - before).abs());
    base_step();
    return loss;
  }

  /// The store as three columns: keys and last epochs (int64), and rows (sum, count, ADLP).
  void save(torch::serialize::OutputArchive& archive) const override {
    Optimizer::save(archive);
    std::vector<std::int64_t> keys, seen;
    std::vector<double> stats;
    for (const auto& [key, r] : store_) {
      keys.push_back(static_cast<std::int64_t>(key));
      seen.push_back(r.seen);
      stats.insert(stats.end(), {r.sum, r.count, r.adlp});
    }
    archive.write("ausam_keys", torch::tensor(keys, torch::kInt64));
    archive.write("ausam_seen", torch::tensor(seen, torch::kInt64));
    archive.write("ausam_stats", torch::tensor(stats, torch::kFloat64).reshape({-1, 3}));
    write_int(archive, "ausam_epoch", epoch_);
  }

  void load(torch::serialize::InputArchive& archive) override {
    Optimizer::load(archive);
    torch::Tensor keys, seen, stats;
    archive.read("ausam_keys", keys);
    archive.read("ausam_seen", seen);
    archive.read("ausam_stats", stats);
    epoch_ = read_int(archive, "ausam_epoch");
    keys = keys.to(torch::kCPU).contiguous();
    seen = seen.to(torch::kCPU).contiguous();
    stats = stats.to(torch::kCPU).to(torch::kFloat64).contiguous();
    TORCH_CHECK(seen.size(0) == keys.size(0) && stats.size(0) == keys.size(0),
                "ausam: inconsistent saved sample store");
    auto k = keys.accessor<std::int64_t, 1>();
    auto s = seen.accessor<std::int64_t, 1>();
    auto st = stats.accessor<double, 2>();
    store_.clear();
    for (std::int64_t i = 0; i < keys.size(0); ++i)
      store_[static_cast<std::uint64_t>(k[i])] = Record{st[i][0], st[i][1], st[i][2], s[i]};
  }

 private:
  /// A new epoch when more than half of the batch was already seen in this one; then marks
  /// the batch as seen (creating records for new samples).
  void advance_epoch(const std::vector<std::uint64_t>& keys) {
    std::int64_t again = 0;
    for (const auto key : keys) {
      const auto it = store_.find(key);
      if (it != store_.end() && it->second.seen == epoch_) ++again;
    }
    if (2 * again > static_cast<std::int64_t>(keys.size())) ++epoch_;
    for (const auto key : keys) store_[key].seen = epoch_;
  }

  /// fmax_e of train.py, frozen after start_epoch + trans_epoch and clamped at fmin.
  double fmax_at(std::int64_t epoch) const {
    const std::int64_t start = o_.start_epoch, trans = o_.trans_epoch;
    const std::int64_t e = std::min(epoch, start + trans);
    const double f = o_.fmax - static_cast<double>(start + trans - e) / static_cast<double>(trans) *
                                   (o_.fmax - o_.fmin) + 1e-9;
    return std::max(o_.fmin, f);
  }

  /// B': undefined (all rows) in epoch 0, else k rows drawn without replacement with
  /// p ∝ ADLP min-max scaled to [fmin, fmax_e].
  torch::Tensor draw(const std::vector<std::uint64_t>& keys, const torch::Device& device) const {
    if (epoch_ == 0) return {};
    const auto n = static_cast<std::int64_t>(keys.size());
    // Python's int(alpha * n), as the code; at least min(2, n) rows
    const auto k = std::max(std::min<std::int64_t>(2, n),
                            static_cast<std::int64_t>(o_.alpha * static_cast<double>(n)));
    std::vector<double> adlp;
    for (const auto key : keys) adlp.push_back(store_.at(key).adlp);
    const auto a = torch::tensor(adlp, torch::kFloat64);
    const double lo = a.min().item<double>(), hi = a.max().item<double>();
    const auto scaled =
        hi > lo ? (a - lo) / (hi - lo) * (fmax_at(epoch_) - o_.fmin) + o_.fmin : torch::ones_like(a);
    return torch::multinomial(scaled / scaled.sum(), k, /*replacement=*/false).to(device);
  }

  /// The code's impt_roc: overwrite in epoch 0, running mean afterwards, drawn rows only.
  void record(const std::vector<std::uint64_t>& keys, const torch::Tensor& rows,
              const torch::Tensor& dlp) {
    const auto d = dlp.detach().to(torch::kCPU).to(torch::kFloat64).contiguous();
    const auto r = rows.defined() ? rows.to(torch::kCPU).contiguous()
                                  : torch::arange(static_cast<std::int64_t>(keys.size()), torch::kInt64);
    auto da = d.accessor<double, 1>();
    auto ra = r.accessor<std::int64_t, 1>();
    for (std::int64_t j = 0; j < r.size(0); ++j) {
      Record& rec = store_.at(keys[static_cast<std::size_t>(ra[j])]);
      if (epoch_ == 0) {
        rec.sum = da[j];
        rec.adlp = da[j];
      } else {
        rec.sum += da[j];
        rec.count += 1;
        rec.adlp = rec.sum / rec.count;
      }
    }
  }

  std::int64_t epoch_ = 0;  ///< epochs of this optimizer's stage, from 0
  std::unordered_map<std::uint64_t, Record> store_;
};

const bool registered = optimizer_registry().add(
    {"ausam",
     "AUSAM: SAM on a subset drawn by each sample's average loss change under the perturbation "
     "(Deng et al., AAAI 2025)",
     {positive("rho", 0.1, "radius of the weight perturbation"),
      real("alpha", 0.5, "fraction of the batch drawn for both passes after the first epoch", 0.0, 1.0,
           true),
      positive("fmin", 0.1, "lowest sampling weight (sample of least average loss change)"),
      positive("fmax", 0.5, "highest sampling weight reached after the ramp (must be >= fmin)"),
      integer("start_epoch", 0, "epoch at which the fmax ramp starts (counted in the stage)", 0),
      integer("trans_epoch", 30, "length of the fmax ramp from fmin to fmax, in epochs", 1)},
     variant<Ausam>(ausam_options),
     "2 fwd / 2 bwd, on an alpha fraction of the batch after the first epoch",
     {{{"fmin", "fmax"}, [](const Params& p) -> std::string {
         return p.real("fmax") < p.real("fmin") ? "fmax must be >= fmin" : "";
       }}}});

}  // namespace
}  // namespace gda
