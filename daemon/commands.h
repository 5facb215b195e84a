/* commands: the subcommands of the enrichd binary. Each returns the process exit status. */
#ifndef ENRICHD_DAEMON_COMMANDS_H
#define ENRICHD_DAEMON_COMMANDS_H

/* enrichd enrich [--stages LIST] [--text] [--lang CODE] [--workers N] [FILE...] */
int cmd_enrich(int argc, char **argv);

/* enrichd --version: version, build info, library versions, model files. */
int cmd_version(int argc, char **argv);

#endif
