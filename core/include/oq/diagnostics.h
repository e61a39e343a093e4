// Where OncoQuant's own messages go, apart from what third-party libraries print.
//
// libpng, OpenSlide's glib, ITK's NIfTI reader and OpenJPEG write to the process's stderr on their
// own; their lines came before our "error:" line and read as the reason (bad-input README). A
// command holds them back (hold_library_messages): its own errors, warnings and progress go to
// diag(), the real stderr, and the libraries' text is kept aside, shown after the error when the
// command fails and dropped when it succeeds. A crash still shows it.
#pragma once

#include <cstdio>
#include <string>

namespace oq {

// The stream for OncoQuant's own messages: the terminal's stderr.
std::FILE* diag();

// From here on, what libraries write to stderr is held back. Call once, early in main().
void hold_library_messages();

// What the libraries have written since, each line stripped of control characters.
std::string held_library_messages();

}  // namespace oq
