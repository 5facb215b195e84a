/* commands: the subcommands of the enrichd binary. Each returns the process exit status. */
#ifndef ENRICHD_DAEMON_COMMANDS_H
#define ENRICHD_DAEMON_COMMANDS_H

/* enrichd enrich [--stages LIST] [--text] [--lang CODE] [--workers N] [FILE...] */
int cmd_enrich(int argc, char **argv);

/* enrichd --version: version, build info, library versions, model files. */
int cmd_version(int argc, char **argv);

/* enrichd broker [--partitions N] [--topic NAME]... [--brokers N] [--port 0] */
int cmd_broker(int argc, char **argv);

/* enrichd run -c FILE [--brokers B] [--input T1,T2] [--output T] [--dlq T] [--group G] */
int cmd_run(int argc, char **argv);

/* enrichd check -c FILE: load the config and the models, connect to nothing. */
int cmd_check(int argc, char **argv);

#endif
