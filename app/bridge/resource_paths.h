#pragma once
// Where the data Kiln ships lives: <prefix>/share/kiln beside an installed <prefix>/bin, else
// the source tree's resources/ for binaries run from a build tree.

#include <filesystem>

namespace kiln::bridge {

// The CLIP BPE vocabulary folder (vocab.json + merges.txt) for single-file models.
std::filesystem::path clipVocabularyDir();

}  // namespace kiln::bridge
