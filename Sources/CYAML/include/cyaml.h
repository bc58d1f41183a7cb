#ifndef GANTRY_CYAML_H
#define GANTRY_CYAML_H
// Thin shim over libyaml: Swift calls libyaml's non-variadic C API directly (parser, emitter, event
// initialisers) and passes its write handler as a non-capturing @convention(c) closure, so no wrappers are
// needed yet. Add typed wrappers here only for what Swift cannot call; never logic.
#include <yaml.h>
#endif
