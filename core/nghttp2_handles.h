// RAII owners for nghttp2 handles.
#pragma once

#include <nghttp2/nghttp2.h>

#include <memory>

namespace emitlab {

struct NgSessionDel {
  void operator()(nghttp2_session* p) const noexcept { nghttp2_session_del(p); }
};
struct NgCallbacksDel {
  void operator()(nghttp2_session_callbacks* p) const noexcept { nghttp2_session_callbacks_del(p); }
};
struct NgOptionDel {
  void operator()(nghttp2_option* p) const noexcept { nghttp2_option_del(p); }
};

using NgSessionPtr = std::unique_ptr<nghttp2_session, NgSessionDel>;
using NgCallbacksPtr = std::unique_ptr<nghttp2_session_callbacks, NgCallbacksDel>;
using NgOptionPtr = std::unique_ptr<nghttp2_option, NgOptionDel>;

}  // namespace emitlab
