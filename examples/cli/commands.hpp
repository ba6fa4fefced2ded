// The `inkling` subcommands; each takes argv with argv[0] = the subcommand name.
#pragma once

int cmd_run(int argc, char** argv);
int cmd_chat(int argc, char** argv);
int cmd_tokenize(int argc, char** argv);
int cmd_info(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_synth(int argc, char** argv);
int cmd_serve(int argc, char** argv);
int cmd_quantize(int argc, char** argv);
int cmd_perplexity(int argc, char** argv);
int cmd_embed(int argc, char** argv);   // cmd_embed.cpp
int cmd_rerank(int argc, char** argv);  // cmd_embed.cpp
