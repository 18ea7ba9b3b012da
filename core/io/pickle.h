#pragma once
// A safe reader of Python pickles (protocols 2-5, the binary opcodes torch.save emits).
//
// It is a bounded, iterative virtual machine over the pickle bytes that builds a tree of
// plain values and never imports or runs anything: GLOBAL yields a name, REDUCE/NEWOBJ of a
// name the caller declares known yields a `Call` node for the caller to interpret, and every
// other name becomes an opaque `Object` whose name is reported in unknown_globals(). A few
// builtins are evaluated in place because later opcodes mutate their results
// (collections.OrderedDict(), dict(), set(), frozenset(), list()).
//
// Each opcode creates at most one value, so the stack, the memo, the marks and the values are
// all bounded by the pickle's size; strings are views of at most the bytes remaining. Values
// live in an arena and refer to each other by pointer, so self-referencing or deeply nested
// structures cost no recursion to build or destroy. Malformed input throws kiln::FormatError
// naming the opcode and its offset.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln::io::pickle {

enum class Kind : std::uint8_t {
  None,
  Bool,
  Int,
  BigInt,  // an integer beyond int64 (LONG1/LONG4); its value is not kept
  Float,
  String,  // BINUNICODE*, BINSTRING* (bytes as written, UTF-8 for unicode)
  Bytes,
  Tuple,
  List,
  Dict,
  Set,           // set and frozenset
  Global,        // a known name ("module.name") not yet called
  Call,          // a known global applied to arguments: items = {callable, args tuple}
  Object,        // anything built from an unknown name; `text` holds that name
  PersistentId,  // BINPERSID: items = {the persistent id}
};

const char* to_string(Kind kind);

struct Value {
  Kind kind = Kind::None;
  bool boolean = false;
  std::int64_t integer = 0;
  double real = 0.0;
  std::string text;                                            // String, Bytes; Global/Object name
  std::vector<const Value*> items;                             // Tuple, List, Set, Call, PersistentId
  std::vector<std::pair<const Value*, const Value*>> entries;  // Dict, in insertion order

  bool is(Kind k) const { return kind == k; }
  bool is_string(std::string_view s) const { return kind == Kind::String && text == s; }
  bool is_sequence() const { return kind == Kind::Tuple || kind == Kind::List; }
  // The callable's name of a Call, else "".
  std::string_view call_name() const;
  // Arguments of a Call (empty for anything else).
  std::span<const Value* const> call_args() const;
};

// The value stored under a string key of a Dict (the last one, as Python keeps), or nullptr.
const Value* dict_get(const Value& dict, std::string_view key);

// A one-line, non-recursive description for messages: "int 5", "str \"cpu\"", "dict of 3
// entries", "object os.system", "call torch._utils._rebuild_tensor_v2".
std::string describe(const Value& value);

struct Options {
  // True for dotted names ("torch._utils._rebuild_tensor_v2") the caller interprets itself.
  std::function<bool(std::string_view)> is_known;
  // What the bytes are, for messages (e.g. "archive/data.pkl").
  std::string source;
};

class Pickle {
 public:
  const Value& root() const { return *root_; }
  // Unknown global names in order of first appearance, without repeats.
  const std::vector<std::string>& unknown_globals() const { return unknown_; }

 private:
  friend class Machine;
  std::deque<Value> arena_;
  const Value* root_ = nullptr;
  std::vector<std::string> unknown_;
};

// Runs the pickle in `data` up to its STOP opcode. Throws kiln::FormatError naming `path`,
// options.source, the opcode and its offset when the pickle is malformed or uses an opcode
// outside the supported set (the text protocol-0 opcodes, INST/OBJ, out-of-band buffers).
Pickle unpickle(std::span<const std::byte> data, const Options& options, const std::filesystem::path& path);

}  // namespace kiln::io::pickle
