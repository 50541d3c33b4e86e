// A C++ program against the installed header: the library it loads reports
// the version pkg-config gives (passed as MACP_EXPECTED_VERSION).
#include <cstdio>
#include <cstring>

#include <macp.h>

int main() {
    const char *v = macp_version();
    std::printf("libmacp %s\n", v);
    return std::strcmp(v, MACP_EXPECTED_VERSION) == 0 ? 0 : 1;
}
