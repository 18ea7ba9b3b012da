#include "control/pose_json.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <system_error>

#include "base/error.h"
#include "base/python_json.h"
#include "io/atomic_file.h"
#include "io/output_paths.h"

namespace kiln::control {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "a list";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    default:
      return "a number";
  }
}

// Parses with Python's bare NaN/Infinity tokens turned into null, so that they are reported at
// their field ("... is NaN, Infinity or null") rather than as a syntax error.
json parse_text(std::string_view text, const fs::path& source) {
  if (text.size() > kMaxPoseJsonBytes)
    throw FormatError("pose JSON of " + std::to_string(text.size()) + " bytes is larger than any pose (limit " +
                          std::to_string(kMaxPoseJsonBytes >> 20) + " MiB)",
                      source);
  try {
    return json::parse(sanitize_python_json(text));
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 3, column 9: ..." -> from "line".
    if (const auto at = what.find("line "); at != std::string::npos) what = what.substr(at);
    throw FormatError("not valid JSON (" + what + ")", source, "a truncated or edited file?");
  } catch (const json::out_of_range& e) {
    // "[json.exception.out_of_range.406] number overflow parsing '1e400'"
    std::string what = e.what();
    if (const auto at = what.find("] "); at != std::string::npos) what = what.substr(at + 2);
    throw FormatError("holds a number no pose can have (" + what + ")", source);
  }
}

double number_at(const json& array, std::size_t i, const std::string& field, const fs::path& source) {
  const json& v = array[i];
  const std::string where = field + "[" + std::to_string(i) + "]";
  if (v.is_null()) throw FormatError(where + " is NaN, Infinity or null, not a number", source);
  if (!v.is_number()) throw FormatError(where + " is " + type_name(v) + ", not a number", source);
  const double d = v.get<double>();
  if (!std::isfinite(d)) throw FormatError(where + " is not a finite number", source);
  return d;
}

// A flat [x, y, c, ...] list of `points` points. null, a missing key and [] are "absent" (the
// reference's `if not numbers: return None`): an empty result.
std::vector<Keypoint> read_points(const json& obj, const char* key, std::size_t points, const std::string& field,
                                  const fs::path& source) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_array()) throw FormatError(field + " is " + type_name(*it) + ", expected a list of numbers", source);
  if (it->empty()) return {};
  if (it->size() != 3 * points)
    throw FormatError(field + " has " + std::to_string(it->size()) + " numbers, expected " +
                          std::to_string(3 * points) + " (" + std::to_string(points) + " points as x, y, confidence)",
                      source);
  std::vector<Keypoint> out(points);
  for (std::size_t p = 0; p < points; ++p) {
    out[p].x = number_at(*it, 3 * p, field, source);
    out[p].y = number_at(*it, 3 * p + 1, field, source);
    out[p].confidence = number_at(*it, 3 * p + 2, field, source);
  }
  return out;
}

int canvas_side(const json& obj, const char* key, const std::string& prefix, const fs::path& source) {
  const std::string field = prefix + key;
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) throw FormatError("no " + field + ": not a pose JSON", source);
  if (!it->is_number()) throw FormatError(field + " is " + type_name(*it) + ", expected a whole number", source);
  const double d = it->get<double>();
  if (!std::isfinite(d) || d != std::floor(d))
    throw FormatError(field + " = " + it->dump() + " is not a whole number of pixels", source);
  if (d < 1 || d > kMaxCanvasSide)
    throw FormatError(field + " = " + it->dump() + " is out of range (1 to " + std::to_string(kMaxCanvasSide) + ")",
                      source);
  return static_cast<int>(d);
}

// One OpenPose-JSON object; `prefix` places it in a list ("[2]." for frame 2).
PoseScene read_scene(const json& obj, const std::string& prefix, const fs::path& source) {
  if (!obj.is_object())
    throw FormatError((prefix.empty() ? std::string("the pose") : prefix.substr(0, prefix.size() - 1)) + " is " +
                          type_name(obj) + ", expected an object with people and canvas_width/canvas_height",
                      source);
  const bool has_people = obj.contains("people"), has_animals = obj.contains("animals");
  if (!has_people && !has_animals)
    throw FormatError(prefix + "people: missing (neither people nor animals: not an OpenPose JSON pose)", source);

  PoseScene scene;
  scene.canvas_width = canvas_side(obj, "canvas_width", prefix, source);
  scene.canvas_height = canvas_side(obj, "canvas_height", prefix, source);

  const auto list = [&](const char* key) -> const json* {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    if (!it->is_array()) throw FormatError(prefix + key + " is " + type_name(*it) + ", expected a list", source);
    if (it->size() > kMaxPeople)
      throw FormatError(
          prefix + key + " has " + std::to_string(it->size()) + " entries (at most " + std::to_string(kMaxPeople) + ")",
          source);
    return &*it;
  };

  if (const json* people = list("people")) {
    for (std::size_t i = 0; i < people->size(); ++i) {
      const json& p = (*people)[i];
      const std::string base = prefix + "people[" + std::to_string(i) + "]";
      if (!p.is_object()) throw FormatError(base + " is " + type_name(p) + ", expected an object", source);
      PosePerson person;
      const auto body = read_points(p, "pose_keypoints_2d", kBodyPoints, base + ".pose_keypoints_2d", source);
      std::copy(body.begin(), body.end(), person.body.begin());  // absent body: every point hidden
      person.left_hand =
          read_points(p, "hand_left_keypoints_2d", kHandPoints, base + ".hand_left_keypoints_2d", source);
      person.right_hand =
          read_points(p, "hand_right_keypoints_2d", kHandPoints, base + ".hand_right_keypoints_2d", source);
      person.face = read_points(p, "face_keypoints_2d", kFacePoints, base + ".face_keypoints_2d", source);
      scene.people.push_back(std::move(person));
    }
  }
  if (const json* animals = list("animals")) {
    for (std::size_t i = 0; i < animals->size(); ++i) {
      const std::string base = prefix + "animals[" + std::to_string(i) + "]";
      // read_points looks a key up: wrap the bare list.
      const json holder = {{"points", (*animals)[i]}};
      const auto points = read_points(holder, "points", kAnimalPoints, base, source);
      if (points.empty()) throw FormatError(base + " is empty, expected 17 AP10K points", source);
      AnimalPose animal;
      std::copy(points.begin(), points.end(), animal.points.begin());
      scene.animals.push_back(animal);
    }
  }
  if (std::string problem = scene_problem(scene); !problem.empty()) throw FormatError(prefix + problem, source);
  return scene;
}

std::string number(double v) { return json(v).dump(); }  // shortest round-trip form, "1.0" for 1

std::string numbers(std::span<const Keypoint> part) {
  if (part.empty()) return "null";
  std::string out = "[";
  for (std::size_t i = 0; i < part.size(); ++i) {
    if (i) out += ", ";
    out += number(part[i].x) + ", " + number(part[i].y) + ", " + number(part[i].confidence);
  }
  return out + "]";
}

std::string person_line(const PosePerson& p) {
  return "{\"pose_keypoints_2d\": " + numbers(p.body) + ", \"face_keypoints_2d\": " + numbers(p.face) +
         ", \"hand_left_keypoints_2d\": " + numbers(p.left_hand) +
         ", \"hand_right_keypoints_2d\": " + numbers(p.right_hand) + "}";
}

// "[\n<indent>  line,\n ... <indent>]" or "[]".
template <typename T, typename F>
std::string lines(const std::vector<T>& items, const std::string& indent, F&& line) {
  if (items.empty()) return "[]";
  std::string out = "[\n";
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += indent + "  " + line(items[i]) + (i + 1 < items.size() ? ",\n" : "\n");
  }
  return out + indent + "]";
}

std::string scene_object(const PoseScene& s, const std::string& indent, bool comfy) {
  const std::string in = indent + "  ";
  const auto people = [&] { return lines(s.people, in, person_line); };
  const auto animals = [&] { return lines(s.animals, in, [](const AnimalPose& a) { return numbers(a.points); }); };
  std::string out = "{\n";
  if (!comfy) {
    out += in + "\"people\": " + people() + ",\n" + in + "\"animals\": " + animals() + ",\n";
    out += in + "\"canvas_width\": " + std::to_string(s.canvas_width) + ",\n";
    out += in + "\"canvas_height\": " + std::to_string(s.canvas_height) + "\n";
  } else {
    // comfyui_controlnet_aux: people frames {"people", "canvas_height", "canvas_width"}; animal
    // frames {"version": "ap10k", "animals", ...}.
    if (s.people.empty() && !s.animals.empty()) {
      out += in + "\"version\": \"ap10k\",\n" + in + "\"animals\": " + animals() + ",\n";
    } else {
      out += in + "\"people\": " + people() + ",\n";
      if (!s.animals.empty()) out += in + "\"animals\": " + animals() + ",\n";
    }
    out += in + "\"canvas_height\": " + std::to_string(s.canvas_height) + ",\n";
    out += in + "\"canvas_width\": " + std::to_string(s.canvas_width) + "\n";
  }
  return out + indent + "}";
}

}  // namespace

const char* to_string(PoseJsonFormat format) {
  return format == PoseJsonFormat::OpenPose ? "openpose" : "pose_keypoint";
}

PoseScene parse_openpose_json(std::string_view text, const fs::path& source) {
  const json doc = parse_text(text, source);
  if (doc.is_array())
    throw FormatError("a list at the top: this is a ComfyUI POSE_KEYPOINT file, not an OpenPose JSON object", source);
  return read_scene(doc, "", source);
}

std::vector<PoseScene> parse_pose_keypoint_json(std::string_view text, const fs::path& source) {
  const json doc = parse_text(text, source);
  if (!doc.is_array())
    throw FormatError(std::string("POSE_KEYPOINT is a list of frames, got ") + type_name(doc) + " at the top", source);
  if (doc.empty()) throw FormatError("an empty POSE_KEYPOINT list (no frame)", source);
  if (doc.size() > kMaxPeople)
    throw FormatError(
        "POSE_KEYPOINT list of " + std::to_string(doc.size()) + " frames (at most " + std::to_string(kMaxPeople) + ")",
        source);
  std::vector<PoseScene> frames;
  for (std::size_t i = 0; i < doc.size(); ++i)
    frames.push_back(read_scene(doc[i], "[" + std::to_string(i) + "].", source));
  return frames;
}

PoseFile parse_pose_json(std::string_view text, const fs::path& source) {
  const json doc = parse_text(text, source);
  PoseFile file;
  if (doc.is_array()) {
    // Parsed twice for one code path; pose files are small.
    file.format = PoseJsonFormat::PoseKeypoint;
    file.frames = parse_pose_keypoint_json(text, source);
  } else {
    file.format = PoseJsonFormat::OpenPose;
    file.frames.push_back(read_scene(doc, "", source));
  }
  return file;
}

PoseFile read_pose_file(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) throw FileError("cannot read the pose file: " + ec.message(), path);
  if (size > kMaxPoseJsonBytes)
    throw FormatError("a pose file of " + std::to_string(size) + " bytes is larger than any pose (limit " +
                          std::to_string(kMaxPoseJsonBytes >> 20) + " MiB)",
                      path);
  return parse_pose_json(io::read_file(path), path);
}

std::string to_openpose_json(const PoseScene& scene) { return scene_object(scene, "", false) + "\n"; }

std::string to_pose_keypoint_json(std::span<const PoseScene> frames) {
  std::string out = "[\n";
  for (std::size_t i = 0; i < frames.size(); ++i) {
    out += "  " + scene_object(frames[i], "  ", true) + (i + 1 < frames.size() ? ",\n" : "\n");
  }
  return out + "]\n";
}

void write_pose_file(const fs::path& path, const PoseFile& file) {
  if (file.frames.empty()) throw InvalidRequestError("pose file " + path.string() + ": no frame to write");
  if (file.format == PoseJsonFormat::OpenPose && file.frames.size() != 1)
    throw InvalidRequestError("an OpenPose JSON file holds one pose, got " + std::to_string(file.frames.size()) +
                              " frames (write POSE_KEYPOINT instead)");
  for (const PoseScene& s : file.frames) validate_scene(s);
  io::write_file_atomically(path, file.format == PoseJsonFormat::OpenPose ? to_openpose_json(file.frames.front())
                                                                          : to_pose_keypoint_json(file.frames));
}

}  // namespace kiln::control
