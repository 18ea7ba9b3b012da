#pragma once
// One function per kiln-cli command. Each takes the arguments without the command word and
// returns the process exit code: 0 success, 1 the work failed (one line on stderr), 2 usage.

#include <QStringList>

namespace kiln::cli {

int run_info(const QStringList& args);
int run_tokenize(const QStringList& args);
int run_generate(const QStringList& args);
int run_png_info(const QStringList& args);
int run_convert(const QStringList& args);
int run_dataset(const QStringList& args);
int run_train(const QStringList& args);
int run_export(const QStringList& args);
int run_control(const QStringList& args);
int run_models(const QStringList& args);
int run_endpoint(const QStringList& args);
int run_upscale(const QStringList& args);
int run_serve(const QStringList& args);
int run_session(const QStringList& args);
// kiln-cli dataset caption (called by run_dataset).
int run_dataset_caption(const QStringList& args);

}  // namespace kiln::cli
