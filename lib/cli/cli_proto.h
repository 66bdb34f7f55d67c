/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dpnat <-> dpnat-cli socket protocol, the one definition both sides
 * use (lib/cli frames answers, app/dpnat-cli reads them; the client links
 * no dpnat library, so this header stands alone).
 *
 * A unix stream socket. The client sends one command per '\n'-terminated
 * line (at most CLI_PROTO_LINE_MAX bytes without it, '\r' before '\n'
 * ignored); "exit" or "quit" ends the session. Every line is answered, in
 * order, with the answer's text, then CLI_PROTO_END, a status byte
 * (CLI_PROTO_OK or CLI_PROTO_ERR) and '\n'. A line that starts with
 * CLI_PROTO_COMPLETE asks for the words that may complete the rest of the
 * line's last word, one per line. A long answer may arrive in many reads:
 * only the end frame ends it.
 */
#ifndef DPNAT_CLI_PROTO_H
#define DPNAT_CLI_PROTO_H

#define CLI_PROTO_SOCKET    "/run/dpnat/dpnat.sock" /**< the daemon's default socket */
#define CLI_PROTO_LINE_MAX  4096                    /**< longest command line, without its '\n' */
#define CLI_PROTO_END       '\0'                    /**< ends an answer's text */
#define CLI_PROTO_OK        '0'                     /**< status after CLI_PROTO_END: success */
#define CLI_PROTO_ERR       '1'                     /**< ... the command failed (message in the text) */
#define CLI_PROTO_COMPLETE  "\x01" "complete "      /**< a completion request's prefix */

#endif /* DPNAT_CLI_PROTO_H */
