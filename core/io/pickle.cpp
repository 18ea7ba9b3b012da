#include "io/pickle.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "base/error.h"

namespace kiln::io::pickle {

const char* to_string(Kind kind) {
  switch (kind) {
    case Kind::None:
      return "None";
    case Kind::Bool:
      return "bool";
    case Kind::Int:
      return "int";
    case Kind::BigInt:
      return "big int";
    case Kind::Float:
      return "float";
    case Kind::String:
      return "str";
    case Kind::Bytes:
      return "bytes";
    case Kind::Tuple:
      return "tuple";
    case Kind::List:
      return "list";
    case Kind::Dict:
      return "dict";
    case Kind::Set:
      return "set";
    case Kind::Global:
      return "global";
    case Kind::Call:
      return "call";
    case Kind::Object:
      return "object";
    case Kind::PersistentId:
      return "persistent id";
  }
  return "?";
}

std::string_view Value::call_name() const {
  if (kind != Kind::Call || items.size() != 2) return {};
  return items[0]->text;
}

std::span<const Value* const> Value::call_args() const {
  if (kind != Kind::Call || items.size() != 2) return {};
  return items[1]->items;
}

const Value* dict_get(const Value& dict, std::string_view key) {
  for (auto it = dict.entries.rbegin(); it != dict.entries.rend(); ++it)
    if (it->first->is_string(key)) return it->second;
  return nullptr;
}

std::string describe(const Value& value) {
  switch (value.kind) {
    case Kind::Bool:
      return value.boolean ? "bool True" : "bool False";
    case Kind::Int:
      return "int " + std::to_string(value.integer);
    case Kind::Float:
      return "float " + std::to_string(value.real);
    case Kind::String: {
      std::string s = "str \"";
      s.append(value.text, 0, 40);
      if (value.text.size() > 40) s += "...";
      return s + '"';
    }
    case Kind::Bytes:
      return "bytes of length " + std::to_string(value.text.size());
    case Kind::Tuple:
    case Kind::List:
    case Kind::Set:
      return std::string(to_string(value.kind)) + " of " + std::to_string(value.items.size()) + " items";
    case Kind::Dict:
      return "dict of " + std::to_string(value.entries.size()) + " entries";
    case Kind::Global:
    case Kind::Object:
      return std::string(to_string(value.kind)) + " " + value.text;
    case Kind::Call:
      return "call " + std::string(value.call_name());
    default:
      return to_string(value.kind);
  }
}

namespace {

enum Op : std::uint8_t {
  MARK = '(',
  STOP = '.',
  POP = '0',
  POP_MARK = '1',
  DUP = '2',
  BINFLOAT = 'G',
  BININT = 'J',
  BININT1 = 'K',
  BININT2 = 'M',
  NONE = 'N',
  BINPERSID = 'Q',
  REDUCE = 'R',
  BINSTRING = 'T',
  SHORT_BINSTRING = 'U',
  BINUNICODE = 'X',
  APPEND = 'a',
  BUILD = 'b',
  GLOBAL = 'c',
  DICT = 'd',
  EMPTY_DICT = '}',
  APPENDS = 'e',
  BINGET = 'h',
  LONG_BINGET = 'j',
  LIST = 'l',
  EMPTY_LIST = ']',
  BINPUT = 'q',
  LONG_BINPUT = 'r',
  SETITEM = 's',
  TUPLE = 't',
  EMPTY_TUPLE = ')',
  SETITEMS = 'u',
  BINBYTES = 'B',
  SHORT_BINBYTES = 'C',
  PROTO = 0x80,
  NEWOBJ = 0x81,
  TUPLE1 = 0x85,
  TUPLE2 = 0x86,
  TUPLE3 = 0x87,
  NEWTRUE = 0x88,
  NEWFALSE = 0x89,
  LONG1 = 0x8a,
  LONG4 = 0x8b,
  SHORT_BINUNICODE = 0x8c,
  BINUNICODE8 = 0x8d,
  BINBYTES8 = 0x8e,
  EMPTY_SET = 0x8f,
  ADDITEMS = 0x90,
  FROZENSET = 0x91,
  NEWOBJ_EX = 0x92,
  STACK_GLOBAL = 0x93,
  MEMOIZE = 0x94,
  FRAME = 0x95,
  BYTEARRAY8 = 0x96,
};

constexpr int kHighestProtocol = 5;

std::string opcode_text(std::uint8_t op) {
  static const char* digits = "0123456789abcdef";
  std::string s = "0x";
  s += digits[op >> 4];
  s += digits[op & 0xf];
  if (op >= 0x21 && op < 0x7f) s += std::string(" ('") + static_cast<char>(op) + "')";
  return s;
}

// Python 2 module names that protocol-2 pickles written by Python 3 use (fix_imports).
std::string_view python3_module(std::string_view module) {
  if (module == "__builtin__") return "builtins";
  if (module == "copy_reg") return "copyreg";
  return module;
}

}  // namespace

class Machine {
 public:
  Machine(std::span<const std::byte> data, const Options& options, const std::filesystem::path& path)
      : data_(data), options_(options), path_(path) {}

  Pickle run() {
    while (pos_ < data_.size()) {
      op_offset_ = pos_;
      op_ = u8();
      if (op_ == STOP) {
        out_.root_ = pop();
        return std::move(out_);
      }
      step();
    }
    fail("ends without a STOP opcode (truncated?)");
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    std::string where = options_.source.empty() ? "pickle" : options_.source;
    throw FormatError(where + ": " + what, path_);
  }
  [[noreturn]] void fail_op(const std::string& what) const {
    fail("opcode " + opcode_text(op_) + " at offset " + std::to_string(op_offset_) + ": " + what);
  }

  // Argument bytes of the current opcode; checked against the end of the data.
  const std::byte* take(std::uint64_t n) {
    if (n > data_.size() - pos_)
      fail_op("needs " + std::to_string(n) + " argument bytes but only " + std::to_string(data_.size() - pos_) +
              " remain");
    const std::byte* p = data_.data() + pos_;
    pos_ += n;
    return p;
  }
  std::uint64_t le(int n) {
    const std::byte* p = take(static_cast<std::uint64_t>(n));
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<std::uint64_t>(p[i]);
    return v;
  }
  std::uint8_t u8() { return static_cast<std::uint8_t>(le(1)); }
  std::string bytes(std::uint64_t n) {
    const std::byte* p = take(n);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  // A newline-terminated argument (GLOBAL); the newline must lie within the data.
  std::string line() {
    const auto* begin = reinterpret_cast<const char*>(data_.data() + pos_);
    const auto* end = static_cast<const char*>(std::memchr(begin, '\n', data_.size() - pos_));
    if (!end) fail_op("argument line has no newline before the end of the data");
    pos_ += static_cast<std::uint64_t>(end - begin) + 1;
    return std::string(begin, end);
  }

  Value* make(Kind kind) {
    Value& v = out_.arena_.emplace_back();
    v.kind = kind;
    return &v;
  }
  void push(Value* v) { stack_.push_back(v); }
  Value* pop() {
    if (stack_.size() <= floor())
      fail_op("needs a value but the stack is empty" + std::string(marks_.empty() ? "" : " above the mark"));
    Value* v = stack_.back();
    stack_.pop_back();
    return v;
  }
  Value* top() {
    if (stack_.size() <= floor())
      fail_op("needs a value but the stack is empty" + std::string(marks_.empty() ? "" : " above the mark"));
    return stack_.back();
  }
  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  // Values pushed since the last MARK, removing them and the mark.
  std::vector<Value*> pop_mark() {
    if (marks_.empty()) fail_op("no MARK to pop to");
    const std::size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    return items;
  }

  Value* sequence(Kind kind, const std::vector<Value*>& items) {
    Value* v = make(kind);
    v->items.assign(items.begin(), items.end());
    return v;
  }

  void put(std::uint64_t key) { memo_[key] = top(); }
  void get(std::uint64_t key) {
    auto it = memo_.find(key);
    if (it == memo_.end()) fail_op("memo key " + std::to_string(key) + " was never stored");
    push(it->second);
  }

  void integer(std::int64_t i) {
    Value* v = make(Kind::Int);
    v->integer = i;
    push(v);
  }
  // LONG1/LONG4: little-endian two's complement of n bytes.
  void long_integer(std::uint64_t n) {
    const std::byte* p = take(n);
    if (n == 0) return integer(0);
    const bool negative = (static_cast<std::uint8_t>(p[n - 1]) & 0x80) != 0;
    const std::byte fill = negative ? std::byte{0xff} : std::byte{0};
    // Beyond 8 bytes the value fits int64 only when the extra bytes repeat the sign.
    bool fits = true;
    for (std::uint64_t i = 8; i < n; ++i) fits = fits && p[i] == fill;
    if (n > 8 && fits) fits = ((static_cast<std::uint8_t>(p[7]) & 0x80) != 0) == negative;
    if (!fits) return push(make(Kind::BigInt));
    std::uint64_t u = negative ? ~std::uint64_t{0} : 0;
    for (std::uint64_t i = 0; i < std::min<std::uint64_t>(n, 8); ++i) {
      u &= ~(std::uint64_t{0xff} << (8 * i));
      u |= static_cast<std::uint64_t>(p[i]) << (8 * i);
    }
    integer(static_cast<std::int64_t>(u));
  }
  void text(Kind kind, std::uint64_t n) {
    Value* v = make(kind);
    v->text = bytes(n);
    push(v);
  }

  void global(std::string_view module, std::string_view name) {
    std::string full = std::string(python3_module(module)) + "." + std::string(name);
    const bool known = is_builtin(full) || (options_.is_known && options_.is_known(full));
    Value* v = make(known ? Kind::Global : Kind::Object);
    if (!known && unknown_set_.insert(full).second) out_.unknown_.push_back(full);
    v->text = std::move(full);
    push(v);
  }
  static bool is_builtin(std::string_view name) {
    return name == "collections.OrderedDict" || name == "builtins.dict" || name == "builtins.set" ||
           name == "builtins.frozenset" || name == "builtins.list";
  }

  // REDUCE / NEWOBJ: builtins are evaluated, other known names become Call nodes, anything
  // derived from an unknown name stays opaque.
  void call(Value* callable, Value* args) {
    if (args->kind != Kind::Tuple)
      fail_op("arguments are of type " + std::string(to_string(args->kind)) + ", not a tuple");
    if (callable->kind == Kind::Object || callable->kind == Kind::Call) {
      Value* v = make(Kind::Object);
      v->text = callable->kind == Kind::Object ? callable->text : std::string(callable->call_name()) + "(...)";
      return push(v);
    }
    if (callable->kind != Kind::Global)
      fail_op("cannot call a value of type " + std::string(to_string(callable->kind)));
    const std::string& name = callable->text;
    if (is_builtin(name)) return push(builtin(name, args));
    Value* v = make(Kind::Call);
    v->items = {callable, args};
    push(v);
  }
  Value* builtin(const std::string& name, const Value* args) {
    const bool mapping = name == "collections.OrderedDict" || name == "builtins.dict";
    Value* v = make(mapping ? Kind::Dict : name == "builtins.list" ? Kind::List : Kind::Set);
    if (args->items.empty()) return v;
    const Value* source = args->items[0];
    // Copies are the one place a small pickle could make large values (the same big list
    // passed to set() again and again), so their total is held to the pickle's size.
    copied_ += source->items.size() + source->entries.size();
    if (copied_ > data_.size()) fail_op("copies more items than the pickle has bytes");
    if (args->items.size() != 1 || !(source->is_sequence() || source->kind == Kind::Set || source->kind == Kind::Dict))
      fail_op(name + " called with arguments Kiln does not understand (" + describe(*args) + ")");
    if (!mapping) {
      if (source->kind == Kind::Dict)
        for (const auto& kv : source->entries) v->items.push_back(kv.first);
      else
        v->items = source->items;
      return v;
    }
    if (source->kind == Kind::Dict) {
      v->entries = source->entries;
      return v;
    }
    for (const Value* pair : source->items) {
      if (!pair->is_sequence() || pair->items.size() != 2) fail_op(name + " called with an item that is not a pair");
      v->entries.emplace_back(pair->items[0], pair->items[1]);
    }
    return v;
  }

  void append(Value* target, const std::vector<Value*>& items) {
    if (target->kind == Kind::Object) return;  // e.g. a custom list subclass: stays opaque
    if (target->kind != Kind::List) fail_op("cannot append to a value of type " + std::string(to_string(target->kind)));
    target->items.insert(target->items.end(), items.begin(), items.end());
  }
  void set_items(Value* target, const std::vector<Value*>& items) {
    if (items.size() % 2 != 0) fail_op("odd number of values for key/value pairs");
    if (target->kind == Kind::Object) return;
    if (target->kind != Kind::Dict)
      fail_op("cannot set items of a value of type " + std::string(to_string(target->kind)));
    for (std::size_t i = 0; i < items.size(); i += 2) target->entries.emplace_back(items[i], items[i + 1]);
  }
  void add_items(Value* target, const std::vector<Value*>& items) {
    if (target->kind == Kind::Object) return;
    if (target->kind != Kind::Set)
      fail_op("cannot add items to a value of type " + std::string(to_string(target->kind)));
    target->items.insert(target->items.end(), items.begin(), items.end());
  }

  void step() {
    switch (op_) {
      case PROTO: {
        const int version = u8();
        if (version > kHighestProtocol)
          fail_op("pickle protocol " + std::to_string(version) + " is newer than Kiln knows (5)");
        return;
      }
      case FRAME: {
        // Frames only group opcodes for buffered readers; the opcodes follow inline.
        const std::uint64_t n = le(8);
        if (n > data_.size() - pos_) fail_op("frame of " + std::to_string(n) + " bytes runs past the end of the data");
        return;
      }
      case MARK:
        marks_.push_back(stack_.size());
        return;
      case POP:
        if (stack_.size() > floor()) return stack_.pop_back();
        pop_mark();  // Python pops the mark itself when nothing sits above it
        return;
      case POP_MARK:
        pop_mark();
        return;
      case DUP:
        return push(top());
      case NONE:
        return push(make(Kind::None));
      case NEWTRUE:
      case NEWFALSE: {
        Value* v = make(Kind::Bool);
        v->boolean = op_ == NEWTRUE;
        return push(v);
      }
      case BININT:
        return integer(static_cast<std::int32_t>(le(4)));
      case BININT1:
        return integer(static_cast<std::int64_t>(le(1)));
      case BININT2:
        return integer(static_cast<std::int64_t>(le(2)));
      case LONG1:
        return long_integer(le(1));
      case LONG4: {
        const auto n = static_cast<std::int32_t>(le(4));
        if (n < 0) fail_op("negative byte count " + std::to_string(n));
        return long_integer(static_cast<std::uint64_t>(n));
      }
      case BINFLOAT: {
        // The only big-endian argument of the binary protocols.
        const std::byte* p = take(8);
        std::uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<std::uint64_t>(p[i]);
        Value* v = make(Kind::Float);
        v->real = std::bit_cast<double>(bits);
        return push(v);
      }
      case BINUNICODE:
        return text(Kind::String, le(4));
      case SHORT_BINUNICODE:
        return text(Kind::String, le(1));
      case BINUNICODE8:
        return text(Kind::String, le(8));
      case BINSTRING: {
        const auto n = static_cast<std::int32_t>(le(4));
        if (n < 0) fail_op("negative string length " + std::to_string(n));
        return text(Kind::String, static_cast<std::uint64_t>(n));
      }
      case SHORT_BINSTRING:
        return text(Kind::String, le(1));
      case BINBYTES:
        return text(Kind::Bytes, le(4));
      case SHORT_BINBYTES:
        return text(Kind::Bytes, le(1));
      case BINBYTES8:
      case BYTEARRAY8:
        return text(Kind::Bytes, le(8));
      case EMPTY_DICT:
        return push(make(Kind::Dict));
      case EMPTY_LIST:
        return push(make(Kind::List));
      case EMPTY_TUPLE:
        return push(make(Kind::Tuple));
      case EMPTY_SET:
        return push(make(Kind::Set));
      case DICT: {
        Value* v = make(Kind::Dict);
        set_items(v, pop_mark());
        return push(v);
      }
      case LIST:
        return push(sequence(Kind::List, pop_mark()));
      case TUPLE:
        return push(sequence(Kind::Tuple, pop_mark()));
      case FROZENSET:
        return push(sequence(Kind::Set, pop_mark()));
      case TUPLE1:
      case TUPLE2:
      case TUPLE3: {
        std::vector<Value*> items(static_cast<std::size_t>(op_ - TUPLE1 + 1));
        for (auto it = items.rbegin(); it != items.rend(); ++it) *it = pop();
        return push(sequence(Kind::Tuple, items));
      }
      case APPEND: {
        Value* item = pop();
        return append(top(), {item});
      }
      case APPENDS: {
        auto items = pop_mark();
        return append(top(), items);
      }
      case SETITEM: {
        Value* value = pop();
        Value* key = pop();
        return set_items(top(), {key, value});
      }
      case SETITEMS: {
        auto items = pop_mark();
        return set_items(top(), items);
      }
      case ADDITEMS: {
        auto items = pop_mark();
        return add_items(top(), items);
      }
      case BINPUT:
        return put(le(1));
      case LONG_BINPUT:
        return put(le(4));
      case MEMOIZE:
        return put(memo_.size());
      case BINGET:
        return get(le(1));
      case LONG_BINGET:
        return get(le(4));
      case GLOBAL: {
        const std::string module = line();
        const std::string name = line();
        return global(module, name);
      }
      case STACK_GLOBAL: {
        Value* name = pop();
        Value* module = pop();
        if (name->kind != Kind::String || module->kind != Kind::String) fail_op("module and name must be strings");
        return global(module->text, name->text);
      }
      case REDUCE: {
        Value* args = pop();
        Value* callable = pop();
        return call(callable, args);
      }
      case NEWOBJ: {
        Value* args = pop();
        Value* cls = pop();
        return call(cls, args);
      }
      case NEWOBJ_EX: {
        Value* kwargs = pop();
        Value* args = pop();
        Value* cls = pop();
        if (kwargs->kind != Kind::Dict)
          fail_op("keyword arguments are of type " + std::string(to_string(kwargs->kind)) + ", not a dict");
        return call(cls, args);
      }
      case BUILD: {
        // The state (attributes or __setstate__ argument) changes nothing Kiln reads, e.g. the
        // `_metadata` of an nn.Module state dict.
        pop();
        top();
        return;
      }
      case BINPERSID: {
        Value* v = make(Kind::PersistentId);
        v->items = {pop()};
        return push(v);
      }
      default:
        fail("opcode " + opcode_text(op_) + " at offset " + std::to_string(op_offset_) +
             " is not supported (Kiln reads the binary opcodes torch.save writes)");
    }
  }

  std::span<const std::byte> data_;
  const Options& options_;
  const std::filesystem::path& path_;
  std::uint64_t pos_ = 0;
  std::uint64_t op_offset_ = 0;
  std::uint8_t op_ = 0;
  std::vector<Value*> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, Value*> memo_;
  std::unordered_set<std::string> unknown_set_;
  std::uint64_t copied_ = 0;
  Pickle out_;
};

Pickle unpickle(std::span<const std::byte> data, const Options& options, const std::filesystem::path& path) {
  return Machine(data, options, path).run();
}

}  // namespace kiln::io::pickle
