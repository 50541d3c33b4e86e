/* The libmacp C API, found on the include path (pkg-config's cflags, or
 * -Xcc -I<checkout>/include). */
#include <macp.h>
