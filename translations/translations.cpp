// Holds the compiled translations (:/i18n/kiln_<lang>.qm) as a resource of this library.
