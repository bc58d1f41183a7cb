// Thin shim over libyaml. No logic lives here.
#ifndef GANTRY_CYAML_H
#define GANTRY_CYAML_H
#include <yaml.h>
#endif
