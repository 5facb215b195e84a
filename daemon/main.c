/* main: the enrichd binary's entry point; dispatches to the subcommands. */
#include <stdio.h>
#include <string.h>

#include "daemon/commands.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
};

static const struct command commands[] = {
    {"enrich", cmd_enrich, "enrich JSON lines (or plain text) from files or stdin to stdout"},
    {"run", cmd_run, "consume articles from Kafka, enrich them, produce them (the daemon)"},
    {"check", cmd_check, "validate the config and load the models; connect to nothing"},
    {"broker", cmd_broker, "run a local Kafka-protocol broker for trying enrichd"},
    {"--version", cmd_version, "print version, build and model information"},
    {"version", cmd_version, NULL},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: enrichd COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (commands[i].help != NULL)
            fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\nrun 'enrichd COMMAND --help' for a command's options\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 64;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "enrichd: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 64;
}
