#pragma once
// A text key whose values name an enum's values (core/params.h). The names and the values
// are declared together, once, beside the key: the key's spec (its choices, the docs, the
// validation) and the code that branches on it cannot drift apart, no order has to be kept
// in step, and a switch over the enum that lacks a case is a compiler warning, where a
// string comparison that lacked one was silence.
//
//   enum class Pairing { index, ot };
//   const Choice<Pairing> kPairing{{"index", Pairing::index}, {"ot", Pairing::ot}};
//   kPairing.spec("pairing", Pairing::index, "how rows are paired")   // in the key list
//   kPairing.of(p, "pairing")                                          // Pairing::ot
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/params.h"

namespace gda {

template <class E>
class Choice {
 public:
  Choice(std::initializer_list<std::pair<const char*, E>> named) {
    for (const auto& [name, value] : named) named_.emplace_back(name, value);
  }

  /// The key's spec: a text key whose choices are these names, in this order.
  ParamSpec spec(std::string key, E def, std::string doc) const {
    return text(std::move(key), name(def), std::move(doc), names());
  }
  /// A list key's spec (ParamSpec::list) over these names; `def` is comma-joined.
  ParamSpec list_spec(std::string key, std::string def, std::string doc) const {
    return text_list(std::move(key), std::move(def), std::move(doc), names());
  }

  /// The value of `key` in p, which the validator has checked against the names.
  E of(const Params& p, const std::string& key) const { return value(p.text(key), key); }
  /// The values of list key `key`, in the order given.
  std::vector<E> items_of(const Params& p, const std::string& key) const {
    std::vector<E> out;
    for (const auto& item : list_items(p.text(key))) out.push_back(value(item, key));
    return out;
  }

  const std::string& name(E e) const {
    for (const auto& [n, v] : named_)
      if (v == e) return n;
    throw std::logic_error("Choice: a value without a name");
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& named : named_) out.push_back(named.first);
    return out;
  }

 private:
  /// A name not among the choices can only come from code that skipped the validator.
  E value(const std::string& name, const std::string& key) const {
    for (const auto& [n, v] : named_)
      if (n == name) return v;
    throw std::logic_error("Choice: \"" + name + "\" is not a choice of key " + key);
  }

  std::vector<std::pair<std::string, E>> named_;
};

}  // namespace gda
