#include "bench/figures.h"

namespace emitlab::bench {
namespace {

double per(std::uint64_t count, std::uint64_t unit) {
  return unit == 0 ? 0.0 : static_cast<double>(count) / static_cast<double>(unit);
}

}  // namespace

RecordMark mark(const ServerConnection& connection) {
  return {connection.passes().size(), connection.outside_passes()};
}

PhaseFigures& PhaseFigures::operator+=(const PhaseFigures& o) {
  work += o.work;
  passes += o.passes;
  skipped_passes += o.skipped_passes;
  fast_path_passes += o.fast_path_passes;
  wire_bytes += o.wire_bytes;
  return *this;
}

PhaseFigures since(const ServerConnection& connection, const RecordMark& start,
                   std::uint64_t wire_bytes) {
  PhaseFigures f;
  f.work = connection.outside_passes();
  f.work -= start.outside;
  const auto& passes = connection.passes();
  for (std::size_t i = start.passes; i < passes.size(); ++i) {
    f.work += passes[i];
    ++f.passes;
    f.skipped_passes += passes[i].skipped ? 1 : 0;
    f.fast_path_passes += passes[i].fast_path ? 1 : 0;
  }
  f.wire_bytes = wire_bytes;
  return f;
}

std::string first_difference(const PhaseFigures& a, const PhaseFigures& b) {
  struct Field {
    const char* name;
    std::uint64_t x, y;
  };
  const Field fields[] = {
      {"passes", a.passes, b.passes},
      {"skipped passes", a.skipped_passes, b.skipped_passes},
      {"wire bytes", a.wire_bytes, b.wire_bytes},
      {"plaintext bytes", a.work.bytes, b.work.bytes},
      {"SSL_write calls", a.work.ssl_writes, b.work.ssl_writes},
      {"TLS records", a.work.tls_records, b.work.tls_records},
      {"write submissions", a.work.write_submissions, b.work.write_submissions},
      {"emitter allocations", a.work.emitter_allocs(), b.work.emitter_allocs()},
      {"nghttp2 allocations", a.work.nghttp2_allocs, b.work.nghttp2_allocs},
      {"reference operations", a.work.ref_ops(), b.work.ref_ops()},
      {"bytes copied", a.work.copied_total(), b.work.copied_total()},
  };
  for (const Field& f : fields) {
    if (f.x != f.y) {
      return std::string(f.name) + " " + std::to_string(f.x) + " vs " + std::to_string(f.y);
    }
  }
  return {};
}

void set_counters(benchmark::State& state, const PhaseFigures& f, const AllocDelta& allocs,
                  std::uint64_t responses) {
  using benchmark::Counter;
  auto& c = state.counters;
  const PassRecord& w = f.work;
  const auto resp = [&](std::uint64_t n) { return per(n, responses); };
  c["responses_per_second"] =
      Counter(static_cast<double>(responses * static_cast<std::uint64_t>(state.iterations())),
              Counter::kIsRate);
  c["responses"] = static_cast<double>(responses);
  c["passes_per_resp"] = resp(f.passes);
  c["skipped_passes_per_resp"] = resp(f.skipped_passes);
  c["fast_path_passes_per_resp"] = resp(f.fast_path_passes);
  c["emitter_allocs_per_pass"] = per(w.emitter_allocs(), f.passes);
  c["emitter_frees_per_pass"] = per(w.emitter_frees(), f.passes);
  c["emitter_allocs_per_resp"] = resp(w.emitter_allocs());
  c["emitter_frees_per_resp"] = resp(w.emitter_frees());
  c["allocs_emitter_per_resp"] = resp(w.emitter_allocs());
  c["allocs_nghttp2_per_resp"] = resp(w.nghttp2_allocs);
  c["allocs_openssl_per_resp"] = resp(allocs.openssl);
  c["allocs_response_per_resp"] = resp(allocs.response);
  c["allocs_cxx_per_resp"] = resp(allocs.cxx);
  c["allocs_total_per_resp"] = resp(allocs.total());
  c["ref_ops_per_resp"] = resp(w.ref_ops());
  c["ref_retains_per_resp"] = resp(w.ref_retains);
  c["ref_releases_per_resp"] = resp(w.ref_releases);
  c["owner_releases_per_resp"] = resp(w.owner_releases);
  c["teardowns_in_pass_per_resp"] = resp(w.objects_destroyed);
  c["copied_per_resp"] = resp(w.copied_total());
  for (std::size_t i = 0; i < kCopySites; ++i) {
    const std::string site(to_string(static_cast<CopySite>(i)));
    c["copied_" + site + "_per_resp"] = resp(w.copied[i]);
  }
  c["ssl_writes_per_resp"] = resp(w.ssl_writes);
  c["tls_records_per_resp"] = resp(w.tls_records);
  c["write_submissions_per_resp"] = resp(w.write_submissions);
  c["parks_per_resp"] = resp(w.parks);
  c["app_bytes_per_resp"] = resp(w.bytes);
  c["wire_bytes_per_resp"] = resp(f.wire_bytes);
}

}  // namespace emitlab::bench
