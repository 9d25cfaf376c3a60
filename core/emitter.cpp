#include "core/emitter.h"

#include "core/drain_emitter.h"
#include "core/gather_emitter.h"
#include "core/hybrid_emitter.h"

namespace emitlab {

std::unique_ptr<Emitter> make_emitter(const StrategySpec& spec, EmitterHeap& heap, Mutant mutant) {
  switch (spec.base) {
    case StrategyBase::Gather:
      return std::make_unique<GatherEmitter>(spec, heap, nullptr, mutant);
    case StrategyBase::Hybrid:
      return std::make_unique<HybridEmitter>(spec, heap, nullptr, mutant);
    case StrategyBase::Drain:
      break;
  }
  return std::make_unique<DrainEmitter>();
}

}  // namespace emitlab
