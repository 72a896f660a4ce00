/* The version of intercom-lua: the one place it is written. The C core reports it as
 * intercom.core._VERSION, intercom._VERSION reads it from there, and tools/gen-rockspec.lua writes the
 * release rockspec (rockspecs/intercom-<version>-1.rockspec) from it. */
#ifndef IC_VERSION_H
#define IC_VERSION_H

#define IC_VERSION "0.2.0"

#endif
