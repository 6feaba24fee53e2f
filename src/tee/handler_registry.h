// HandlerRegistry: the enclave's dispatch tables (host messages by MsgType, decrypted frames by PayloadKind).
// Later protocols add their handlers at enclave start-up; a key without a handler is rejected by the caller.
#pragma once

#include <map>
#include <stdexcept>
#include <utility>

namespace sg::tee {

template <class Key, class Handler>
class HandlerRegistry {
 public:
  // Registering a key twice is a programming error.
  void add(Key key, Handler handler) {
    if (!handlers_.emplace(key, std::move(handler)).second) throw std::logic_error("handler registered twice");
  }
  const Handler* find(Key key) const {
    auto it = handlers_.find(key);
    return it == handlers_.end() ? nullptr : &it->second;
  }

 private:
  std::map<Key, Handler> handlers_;
};

}  // namespace sg::tee
