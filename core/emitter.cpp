#include "core/emitter.h"

#include "core/drain_emitter.h"
#include "core/gather_emitter.h"
#include "core/hybrid_emitter.h"

namespace emitlab {

std::unique_ptr<Emitter> make_emitter(const StrategySpec& spec, EmitterHeap& heap) {
  switch (spec.base) {
    case StrategyBase::Gather:
      return std::make_unique<GatherEmitter>(spec, heap);
    case StrategyBase::Hybrid:
      return std::make_unique<HybridEmitter>(spec, heap);
    case StrategyBase::Drain:
      break;
  }
  return std::make_unique<DrainEmitter>();
}

}  // namespace emitlab
