#include "bridge/error_message.h"

#include <QDir>
#include <QFileInfo>

#include <new>

#include "base/error.h"

namespace kiln::app {

namespace {

QString displayName(const QString& path) {
  const QString name = QFileInfo(path).fileName();
  return name.isEmpty() ? QDir::toNativeSeparators(path) : name;
}

}  // namespace

UserMessage ErrorMessage::fromError(const kiln::Error& error) {
  const QString path = QString::fromStdString(error.path().string());
  const QString name = displayName(path);
  UserMessage m;
  switch (error.kind()) {
    case ErrorKind::File:
      m.title = tr("Cannot read the file");
      m.brief = tr("Cannot open");
      m.text = path.isEmpty() ? tr("Kiln could not open or read a file it needs.")
                              : tr("Kiln could not open or read “%1”. Check that it still exists and that "
                                   "you are allowed to read it.")
                                    .arg(name);
      break;
    case ErrorKind::Format:
      m.title = tr("Not a model Kiln can read");
      m.brief = tr("Unreadable");
      m.text = path.isEmpty() ? tr("The data is damaged or in a format Kiln does not support.")
                              : tr("“%1” opens, but its content is damaged or in a format Kiln does not "
                                   "support.")
                                    .arg(name);
      break;
    case ErrorKind::WeightMismatch:
      m.title = tr("The weights do not fit");
      m.brief = tr("Weights do not fit");
      m.text = path.isEmpty() ? tr("The weights do not match the model they are meant for.")
                              : tr("The weights in “%1” do not match the model they are meant for.").arg(name);
      break;
    case ErrorKind::InvalidRequest:
      m.title = tr("Impossible request");
      m.brief = m.title;
      m.text = tr("This cannot be done as asked. The details say which setting is the problem.");
      break;
    case ErrorKind::OutOfMemory:
      m.title = tr("Out of memory");
      m.brief = m.title;
      m.text = tr("There was not enough memory to finish. Close other programs or choose a smaller "
                  "size, then try again.");
      break;
    case ErrorKind::Compute:
      m.title = tr("The computation failed");
      m.brief = tr("Failed");
      m.text = tr("The engine stopped with an error while computing. The details say at which stage.");
      break;
  }
  QStringList details;
  details << QString::fromStdString(error.message());
  if (!path.isEmpty()) details << tr("File: %1").arg(QDir::toNativeSeparators(path));
  if (!error.hint().empty()) details << tr("Hint: %1").arg(QString::fromStdString(error.hint()));
  m.details = details.join(QLatin1Char('\n'));
  return m;
}

QString ErrorMessage::oneLine(const std::exception& error) {
  if (const auto* e = dynamic_cast<const kiln::Error*>(&error)) {
    return fromError(*e).title + QStringLiteral(": ") + QString::fromStdString(e->what());
  }
  return QString::fromStdString(error.what());
}

UserMessage ErrorMessage::fromException(const std::exception& error, const QString& path) {
  UserMessage m;
  if (dynamic_cast<const std::bad_alloc*>(&error)) {
    m.title = tr("Out of memory");
    m.brief = m.title;
    m.text = tr("There was not enough memory to read “%1”.").arg(displayName(path));
  } else {
    m.title = tr("Unexpected error");
    m.brief = m.title;
    m.text = tr("Something went wrong while reading “%1”.").arg(displayName(path));
  }
  m.details = QString::fromLocal8Bit(error.what());
  if (!path.isEmpty()) m.details += QLatin1Char('\n') + tr("File: %1").arg(QDir::toNativeSeparators(path));
  return m;
}

}  // namespace kiln::app
