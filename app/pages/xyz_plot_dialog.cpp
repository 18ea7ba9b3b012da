#include "pages/xyz_plot_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace kiln::app {

XyzPlotDialog::XyzPlotDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("X/Y/Z Plot"));
  auto* intro = new QLabel(tr("Every combination of the values is made with the other settings as they are, then put "
                              "in one labelled grid (each image also goes to the gallery)."),
                           this);
  intro->setWordWrap(true);
  auto* form = new QFormLayout;
  const QStringList rows{tr("X (columns)"), tr("Y (rows)"), tr("Z (grids)")};
  const QList<std::pair<QString, QString>> kinds{
      {tr("None"), QString()},         {tr("Seed"), QStringLiteral("seed")},
      {tr("Steps"), QStringLiteral("steps")}, {tr("CFG scale"), QStringLiteral("cfg")},
      {tr("Sampler"), QStringLiteral("sampler")}, {tr("Checkpoint"), QStringLiteral("checkpoint")},
      {tr("LoRA weight (the first LoRA)"), QStringLiteral("lora")},
      {tr("LoRA file (replaces the first LoRA)"), QStringLiteral("lora_file")},
      {tr("Prompt S/R (find, then replacements)"), QStringLiteral("prompt")}};
  for (int i = 0; i < 3; ++i) {
    mKinds[i] = new QComboBox(this);
    mKinds[i]->setObjectName(QStringLiteral("plotKind%1").arg(i));
    for (const auto& [label, id] : kinds) mKinds[i]->addItem(label, id);
    mValues[i] = new QLineEdit(this);
    mValues[i]->setObjectName(QStringLiteral("plotValues%1").arg(i));
    mValues[i]->setPlaceholderText(tr("values separated by commas, e.g. 10, 20, 30 or 10-30 (+10)"));
    auto* row = new QHBoxLayout;
    row->addWidget(mKinds[i]);
    row->addWidget(mValues[i], 1);
    form->addRow(rows[i], row);
    connect(mKinds[i], &QComboBox::currentIndexChanged, this, &XyzPlotDialog::update);
    connect(mValues[i], &QLineEdit::textChanged, this, &XyzPlotDialog::update);
  }
  mSummary = new QLabel(this);
  mSummary->setObjectName(QStringLiteral("plotSummary"));
  mSummary->setWordWrap(true);
  mButtons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  mButtons->button(QDialogButtonBox::Ok)->setText(tr("Make the Plot"));
  connect(mButtons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(mButtons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(intro);
  layout->addLayout(form);
  layout->addWidget(mSummary);
  layout->addWidget(mButtons);
  resize(620, sizeHint().height());
  update();
}

std::array<std::optional<bridge::GridAxis>, 3> XyzPlotDialog::axes() const {
  std::array<std::optional<bridge::GridAxis>, 3> out;
  for (int i = 0; i < 3; ++i) {
    const QString kind = mKinds[i]->currentData().toString();
    if (kind.isEmpty()) continue;
    out[i] = bridge::parseGridAxis(kind + QLatin1Char(':') + mValues[i]->text(), nullptr);
  }
  return out;
}

void XyzPlotDialog::setAxisText(int row, const QString& text) {
  const QString kind = text.section(QLatin1Char(':'), 0, 0);
  mKinds[row]->setCurrentIndex(std::max(0, mKinds[row]->findData(kind)));
  mValues[row]->setText(text.section(QLatin1Char(':'), 1));
}

void XyzPlotDialog::update() {
  QString problem;
  qsizetype images = 1;
  int used = 0;
  for (int i = 0; i < 3; ++i) {
    const QString kind = mKinds[i]->currentData().toString();
    mValues[i]->setEnabled(!kind.isEmpty());
    if (kind.isEmpty()) continue;
    ++used;
    QString error;
    const auto axis = bridge::parseGridAxis(kind + QLatin1Char(':') + mValues[i]->text(), &error);
    if (!axis) {
      if (problem.isEmpty()) problem = error;
      continue;
    }
    images *= axis->values.size();
  }
  const bool ok = used > 0 && problem.isEmpty();
  mButtons->button(QDialogButtonBox::Ok)->setEnabled(ok);
  mSummary->setText(used == 0 ? tr("Choose at least one axis.")
                    : !ok     ? problem
                              : tr("%n image(s), then the grid.", nullptr, int(images)));
}

}  // namespace kiln::app
