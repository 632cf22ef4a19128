#include "r2e/trajectory.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

#include "r2e/repo_env.h"

namespace r2e {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Each line type's fields in line order, listed once for writing, reading
// and telling them apart from `extra` (which cannot replace them):
// Visit(record, f) calls f(key, member) for each.
struct StepFields {
  using Record = StepRecord;
  static constexpr const char* kType = "step";
  template <typename R, typename F>
  static void Visit(R& r, F&& f) {
    f("step", r.step);
    f("thought", r.thought);
    f("action", r.action);
    f("observation", r.observation);
    f("done", r.done);
    f("exit_code", r.exit_code);
    f("timed_out", r.timed_out);
    f("duration_s", r.duration_s);
    f("model_s", r.model_s);
    f("prompt_tokens", r.prompt_tokens);
    f("completion_tokens", r.completion_tokens);
    f("total_tokens", r.total_tokens);
  }
};

struct SummaryFields {
  using Record = EpisodeSummary;
  static constexpr const char* kType = "summary";
  template <typename R, typename F>
  static void Visit(R& s, F&& f) {
    f("instance_id", s.instance_id);
    f("reward", s.reward);
    f("exit_reason", s.exit_reason);
    f("steps", s.steps);
    f("patch", s.patch);
  }
};

// "type" and the line type's fields.
template <typename Fields>
bool IsNamed(const std::string& key) {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v = {"type"};
    const typename Fields::Record none{};
    Fields::Visit(none, [&](const char* name, const auto&) { v.emplace_back(name); });
    return v;
  }();
  return std::find(names.begin(), names.end(), key) != names.end();
}

template <typename Fields>
void MergeExtra(nlohmann::ordered_json& line, const json& extra) {
  if (!extra.is_object()) return;
  for (auto it = extra.begin(); it != extra.end(); ++it) {
    if (!IsNamed<Fields>(it.key())) line[it.key()] = it.value();
  }
}

template <typename Fields>
json ExtraOf(const json& line) {
  json extra = json::object();
  for (auto it = line.begin(); it != line.end(); ++it) {
    if (!IsNamed<Fields>(it.key())) extra[it.key()] = it.value();
  }
  return extra.empty() ? json() : extra;
}

// An optional field is written only when it has a value.
template <typename T>
void Put(nlohmann::ordered_json& line, const char* key, const T& value) {
  line[key] = value;
}
template <typename T>
void Put(nlohmann::ordered_json& line, const char* key, const std::optional<T>& value) {
  if (value) line[key] = *value;
}

template <typename Fields>
nlohmann::ordered_json LineOf(const typename Fields::Record& r) {
  nlohmann::ordered_json line = nlohmann::ordered_json::object();
  line["type"] = Fields::kType;
  Fields::Visit(r, [&](const char* key, const auto& value) { Put(line, key, value); });
  MergeExtra<Fields>(line, r.extra);
  return line;
}

// Typed field readers: a missing field keeps the default; a field of the
// wrong type is an error.
struct FieldReader {
  const json& line;
  std::string error;

  template <typename T>
  void Get(const char* key, T& out) {
    auto it = line.find(key);
    if (it == line.end() || it->is_null()) return;
    bool ok = false;
    if constexpr (std::is_same_v<T, std::string>) {
      ok = it->is_string();
    } else if constexpr (std::is_same_v<T, bool>) {
      ok = it->is_boolean();
    } else if constexpr (std::is_integral_v<T>) {
      ok = it->is_number_integer();
    } else {
      ok = it->is_number();
    }
    if (!ok) {
      if (error.empty()) error = std::string("field `") + key + "` has the wrong type";
      return;
    }
    out = it->template get<T>();
  }

  template <typename T>
  void Get(const char* key, std::optional<T>& out) {
    if (!line.contains(key) || line[key].is_null()) return;
    T value{};
    Get(key, value);
    out = value;
  }
};

// Reads the line's fields into `r`; the first field of the wrong type, or
// empty.
template <typename Fields>
std::string Read(const json& line, typename Fields::Record& r) {
  FieldReader f{line, {}};
  Fields::Visit(r, [&](const char* key, auto& member) { f.Get(key, member); });
  r.extra = ExtraOf<Fields>(line);
  return f.error;
}

}  // namespace

StepRecord StepRecord::From(int step, const Action& action, const StepResult& result) {
  StepRecord r;
  r.step = step;
  r.thought = action.thought;
  r.action = action.ToXml();
  r.observation = result.observation.text;
  r.done = result.done;
  r.exit_code = result.info.exit_code;
  r.timed_out = result.info.timed_out;
  r.duration_s = result.info.total_time.count();
  return r;
}

void TrajectoryWriter::FileCloser::operator()(std::FILE* f) const {
  if (f) std::fclose(f);
}

TrajectoryWriter::TrajectoryWriter(fs::path path, std::FILE* file)
    : path_(std::move(path)), file_(file) {}

Result<TrajectoryWriter> TrajectoryWriter::Open(const fs::path& path,
                                                const TrajectoryWriterOptions& options) {
  if (path.empty()) return Status::InvalidArgument("trajectory path is empty");
  if (options.create_parents && path.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
      return Status::Unavailable("cannot create " + path.parent_path().string() + ": " +
                                 ec.message());
    }
  }
  std::FILE* f = std::fopen(path.c_str(), options.append ? "ab" : "wb");
  if (!f) {
    return Status::Unavailable("cannot open trajectory file " + path.string() + ": " +
                               std::strerror(errno));
  }
  return TrajectoryWriter(path, f);
}

nlohmann::ordered_json TrajectoryWriter::StepJson(const StepRecord& r) {
  return LineOf<StepFields>(r);
}

nlohmann::ordered_json TrajectoryWriter::SummaryJson(const EpisodeSummary& s) {
  return LineOf<SummaryFields>(s);
}

Status TrajectoryWriter::WriteLine(const nlohmann::ordered_json& line) {
  if (!file_) return Status::FailedPrecondition("trajectory " + path_.string() + " is closed");
  if (summary_written_) {
    return Status::FailedPrecondition("trajectory " + path_.string() +
                                      " already has its summary line");
  }
  std::string text;
  try {
    text = line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  } catch (const std::exception& e) {  // not expected with `replace`; never let it escape
    return Status::Internal(std::string("serializing a trajectory line: ") + e.what());
  }
  text += '\n';
  if (std::fwrite(text.data(), 1, text.size(), file_.get()) != text.size() ||
      std::fflush(file_.get()) != 0) {
    const int err = errno;
    std::clearerr(file_.get());
    return Status::Unavailable("writing trajectory " + path_.string() + ": " + std::strerror(err));
  }
  ++lines_;
  return Status::OK();
}

Status TrajectoryWriter::WriteStep(const StepRecord& record) { return WriteLine(StepJson(record)); }

Status TrajectoryWriter::WriteSummary(const EpisodeSummary& summary) {
  R2E_RETURN_IF_ERROR(WriteLine(SummaryJson(summary)));
  summary_written_ = true;
  return Status::OK();
}

Status TrajectoryWriter::Close() {
  if (!file_) return Status::OK();
  std::FILE* f = file_.release();
  if (std::fclose(f) != 0) {
    return Status::Unavailable("closing trajectory " + path_.string() + ": " +
                               std::strerror(errno));
  }
  return Status::OK();
}

Result<Trajectory> ReadTrajectory(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    return Status::NotFound("trajectory " + path.string() + " does not exist");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Unavailable("cannot read trajectory " + path.string());
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string data = buf.str();

  Trajectory out;
  std::size_t pos = 0;
  int line_no = 0;
  while (pos < data.size()) {
    ++line_no;
    std::size_t nl = data.find('\n', pos);
    const bool complete = nl != std::string::npos;
    const std::string_view text(data.data() + pos, (complete ? nl : data.size()) - pos);
    pos = complete ? nl + 1 : data.size();
    if (text.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto where = [&] { return path.string() + ":" + std::to_string(line_no) + ": "; };

    json line = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (line.is_discarded() || !line.is_object()) {
      if (!complete) {
        out.torn_tail = true;
        break;
      }
      return Status::InvalidArgument(where() + "not a JSON object");
    }
    auto type_it = line.find("type");
    const std::string type =
        type_it != line.end() && type_it->is_string() ? type_it->get<std::string>() : "";
    if (type == "step") {
      StepRecord r;
      if (std::string error = Read<StepFields>(line, r); !error.empty()) {
        return Status::InvalidArgument(where() + error);
      }
      out.steps.push_back(std::move(r));
    } else if (type == "summary") {
      if (out.summary) return Status::InvalidArgument(where() + "a second summary line");
      EpisodeSummary s;
      if (std::string error = Read<SummaryFields>(line, s); !error.empty()) {
        return Status::InvalidArgument(where() + error);
      }
      out.summary = std::move(s);
    } else {
      return Status::InvalidArgument(where() + "unknown line type `" + type +
                                     "` (expected step or summary)");
    }
  }
  return out;
}

}  // namespace r2e
