// One function per subcommand; each returns the process exit code (0 ok, 1 input, 2 usage).
#pragma once

namespace oq::cli {

int cmd_info(int argc, char** argv);
int cmd_convert(int argc, char** argv);
int cmd_plugins(int argc, char** argv);
int cmd_segment(int argc, char** argv);
int cmd_bonescan(int argc, char** argv);
int cmd_recist(int argc, char** argv);
int cmd_store(int argc, char** argv);
int cmd_track(int argc, char** argv);
int cmd_phenotype(int argc, char** argv);
int cmd_ihc(int argc, char** argv);
int cmd_report(int argc, char** argv);
int cmd_batch(int argc, char** argv);
int cmd_demo(int argc, char** argv);
int cmd_merge(int argc, char** argv);

}  // namespace oq::cli
