// QuickJsonReader (core/quick_json_reader.h) against nlohmann's parser: what
// the quick reader accepts, nlohmann accepts too, with the same SAX events.
#include <nlohmann/json.hpp>

#include "core/quick_json_reader.h"
#include "fuzz_util.h"

namespace {

// The events as one text: kind, then the value where there is one.
struct EventLog : nlohmann::json_sax<nlohmann::json> {
  std::string text;

  bool null() override { return Put("n", ""); }
  bool boolean(bool v) override { return Put("b", v ? "1" : "0"); }
  bool number_integer(number_integer_t v) override { return Put("i", std::to_string(v)); }
  bool number_unsigned(number_unsigned_t v) override { return Put("u", std::to_string(v)); }
  bool number_float(number_float_t v, const string_t& raw) override {
    return Put("f", nlohmann::json(v).dump() + " " + raw);
  }
  bool string(string_t& v) override { return Put("s", v); }
  bool binary(binary_t&) override { return Put("x", ""); }
  bool start_object(std::size_t) override { return Put("{", ""); }
  bool key(string_t& v) override { return Put("k", v); }
  bool end_object() override { return Put("}", ""); }
  bool start_array(std::size_t) override { return Put("[", ""); }
  bool end_array() override { return Put("]", ""); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  bool Put(const char* kind, const std::string& value) {
    text += kind;
    text += std::to_string(value.size());
    text += ':';
    text += value;
    return true;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = r2e::fuzz::AsView(data, size);
  EventLog quick;
  if (!r2e::internal::QuickJsonReader(text, quick).Read()) return 0;
  EventLog reference;
  R2E_FUZZ_CHECK(nlohmann::json::sax_parse(text.begin(), text.end(), &reference));
  R2E_FUZZ_CHECK(quick.text == reference.text);
  return 0;
}
