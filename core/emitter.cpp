#include "core/emitter.h"

#include "core/drain_emitter.h"
#include "core/gather_emitter.h"

namespace emitlab {

std::unique_ptr<Emitter> make_emitter(const StrategySpec& spec, EmitterHeap& heap) {
  if (spec.base == StrategyBase::Gather) return std::make_unique<GatherEmitter>(spec, heap);
  return std::make_unique<DrainEmitter>();
}

}  // namespace emitlab
