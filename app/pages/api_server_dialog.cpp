#include "pages/api_server_dialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "api/api_server.h"

namespace kiln::app {

ApiServerDialog::ApiServerDialog(const ApiServerSettings& s, QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("API Server"));
  auto* intro = new QLabel(tr("Programs written for AUTOMATIC1111's web API (scripts using webuiapi, SillyTavern, "
                              "Open WebUI, Krita and Photoshop plug-ins) can generate with Kiln. They share the "
                              "Generate page's engine: one job at a time."),
                           this);
  intro->setWordWrap(true);
  mEnabled = new QCheckBox(tr("Serve the API while Kiln runs"), this);
  mEnabled->setObjectName(QStringLiteral("apiEnabled"));
  mEnabled->setChecked(s.enabled);
  mHost = new QLineEdit(s.host, this);
  mHost->setObjectName(QStringLiteral("apiHost"));
  mHost->setToolTip(tr("127.0.0.1: this computer only. 0.0.0.0: every network this computer is on (set a password)."));
  mPort = new QSpinBox(this);
  mPort->setObjectName(QStringLiteral("apiPort"));
  mPort->setRange(1, 65535);
  mPort->setValue(s.port);
  mAuth = new QLineEdit(s.auth, this);
  mAuth->setObjectName(QStringLiteral("apiAuth"));
  mAuth->setPlaceholderText(tr("user:password (optional; several separated by commas)"));
  mAuth->setEchoMode(QLineEdit::PasswordEchoOnEdit);
  mCors = new QLineEdit(s.corsOrigins, this);
  mCors->setObjectName(QStringLiteral("apiCors"));
  mCors->setPlaceholderText(tr("web pages allowed to call it, e.g. http://localhost:8000 (optional)"));
  auto* form = new QFormLayout;
  form->addRow(QString(), mEnabled);
  form->addRow(tr("Address"), mHost);
  form->addRow(tr("Port"), mPort);
  form->addRow(tr("Credentials"), mAuth);
  form->addRow(tr("CORS origins"), mCors);
  mNote = new QLabel(this);
  mNote->setObjectName(QStringLiteral("apiNote"));
  mNote->setWordWrap(true);
  mButtons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  connect(mButtons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(mButtons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(intro);
  layout->addLayout(form);
  layout->addWidget(mNote);
  layout->addWidget(mButtons);
  for (QLineEdit* e : {mHost, mAuth, mCors}) connect(e, &QLineEdit::textChanged, this, &ApiServerDialog::update);
  connect(mPort, &QSpinBox::valueChanged, this, &ApiServerDialog::update);
  connect(mEnabled, &QCheckBox::toggled, this, &ApiServerDialog::update);
  resize(560, sizeHint().height());
  update();
}

ApiServerSettings ApiServerDialog::settings() const {
  ApiServerSettings s;
  s.enabled = mEnabled->isChecked();
  s.host = mHost->text().trimmed();
  s.port = mPort->value();
  s.auth = mAuth->text().trimmed();
  s.corsOrigins = mCors->text().trimmed();
  return s;
}

QString ApiServerDialog::problem() const {
  api::ApiOptions options;
  QString error;
  if (!api::setApiHost(options, mHost->text(), &error)) return tr("Address: %1").arg(error);
  if (!api::setApiCredentials(options, mAuth->text(), &error)) return tr("Credentials: %1").arg(error);
  return {};
}

void ApiServerDialog::update() {
  for (QWidget* w : std::initializer_list<QWidget*>{mHost, mPort, mAuth, mCors}) w->setEnabled(mEnabled->isChecked());
  const QString why = mEnabled->isChecked() ? problem() : QString();
  QString note = why;
  if (why.isEmpty() && mEnabled->isChecked()) {
    api::ApiOptions options;
    api::setApiHost(options, mHost->text(), nullptr);
    if (!options.address.isLoopback() && mAuth->text().trimmed().isEmpty())
      note = tr("Warning: without credentials anyone who can reach this computer can generate with it.");
    else
      note = tr("Clients connect to http://%1:%2").arg(mHost->text().trimmed()).arg(mPort->value());
  }
  mNote->setText(note);
  mButtons->button(QDialogButtonBox::Ok)->setEnabled(why.isEmpty());
}

}  // namespace kiln::app
