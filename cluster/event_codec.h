// A compact, versioned binary form of rules::event for the JetStream events stream, so an
// engine in another process sees exactly the event the ingest parsed (doubles bit for bit,
// strings byte for byte). Decoding checks every length and never reads past the input.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "rules/event.h"

namespace aftershock::cluster {

/// Appends the encoding of `e` to `out` (a version byte, a type tag, then the fields).
void encode_event(const rules::event& e, std::string& out);

/// Decodes what encode_event wrote; nullopt for anything truncated, corrupt, with trailing
/// bytes or of an unknown version or type.
std::optional<rules::event> decode_event(std::string_view bytes);

}  // namespace aftershock::cluster
