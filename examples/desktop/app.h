/* inkling-desktop: a GTK4 application over inkling's C ABI (capi/inkling.h only).
 *
 * Threads: GTK runs on the main (UI) thread. A model loads on a GTask worker thread and
 * a generation runs on its own GThread; neither touches a widget. The generation thread
 * hands each step to the UI thread through a Channel (a mutex-protected queue drained by
 * one idle callback at a time, so a fast model cannot flood the main loop). The UI thread
 * stops a generation with ink_generator_cancel(), which the C ABI allows from any thread.
 */
#ifndef INKLING_DESKTOP_APP_H
#define INKLING_DESKTOP_APP_H

#include <gtk/gtk.h>
#include <inkling.h>

/* What the command line asks for (the same actions a user takes in the window). */
typedef struct Options {
  char **models;       /* opened in turn, as if picked one after another */
  char *prompt;        /* typed into the prompt box and sent once the last model loaded */
  int max_tokens;      /* <= 0: the spin button's default */
  int ctx;             /* <= 0: the model's own context */
  double rope_scale;   /* > 1: linear RoPE scaling, for a ctx beyond the model's training context */
  double temperature, top_p; /* < 0: the slider's default */
  int top_k;           /* < 0: the slider's default */
  gboolean chat;       /* send the prompt as a chat message */
  char *template_name; /* chat template; NULL = the model's own */
  char *screenshot;    /* PNG of the window once the scripted run ends */
  gboolean quit_when_done;
  int stop_after_ms;   /* > 0: press Stop this long after the first token arrives */
  int describe_token;  /* >= 0: print what hovering this token shows, once generation ends */
} Options;

/* One alternative the model considered for a position (text copied out of the step). */
typedef struct Alt {
  int32_t token;
  float prob;
  char *text;
} Alt;

/* One generated token as the UI keeps it, for colouring and the hover tooltip. */
typedef struct TokenRec {
  int32_t token;
  float prob, raw_prob, entropy;
  double ms;
  int start, end; /* character offsets of its text in the output buffer */
  int n_alts, n_raw;
  Alt alts[INK_MAX_ALTERNATIVES], raw[INK_MAX_ALTERNATIVES];
} TokenRec;

/* A message from the generation thread to the UI thread. */
typedef struct Msg {
  gboolean done;      /* FALSE: a step (rec, text); TRUE: the end (the rest) */
  TokenRec rec;
  char *text;         /* the UTF-8 text the step released */
  ink_status status;  /* the end: INK_OK, or the failure with its message */
  char *error;
  ink_stop_reason stop_reason;
  ink_metrics metrics;
  char *reply;        /* the whole generated text */
} Msg;

typedef struct App App;

/* The queue between the generation thread and the UI thread. */
typedef struct Channel {
  GMutex lock;
  GPtrArray *pending; /* Msg* */
  guint idle_id;      /* the scheduled drain, 0 when none */
  App *app;
} Channel;

struct App {
  Options opt;
  GtkApplication *gtk;
  int exit_status;

  /* widgets */
  GtkWidget *window, *open_button, *model_label, *status_label;
  GtkWidget *mode_drop, *template_drop;
  GtkWidget *temp_scale, *top_p_scale, *top_k_scale, *max_spin;
  GtkWidget *output_view, *prompt_view, *send_button, *stop_button, *clear_button;
  GtkWidget *metrics_label;
  GtkTextTag *prob_tags[10], *prompt_tag, *user_tag, *role_tag;

  /* the model and its generator (recreated when the settings change) */
  ink_model *model;
  char *model_path;
  gboolean loading;
  ink_generator *gen;
  ink_generator_params gen_key; /* the settings gen was created with */
  char *gen_template;           /* chat template gen's stop markers came from */
  int gen_chat;

  /* the running generation */
  GThread *worker;
  Channel chan;
  gint stop_pressed;            /* atomic: Stop came before the worker started */
  GArray *tokens;               /* TokenRec of the output buffer, in order */
  gint64 t_send_us, t_first_us; /* when Send was pressed / the first token arrived */
  int n_received;
  GPtrArray *chat_roles, *chat_texts; /* the conversation so far (chat mode) */

  /* scripted run (command-line options) */
  int next_model;
  gboolean script_sent;
  guint stop_timer;
};

/* window.c */
void app_build_window(App *app);
void app_set_status(App *app, const char *text, gboolean is_error);
void app_update_sensitivity(App *app);
void app_open_model(App *app, const char *path);

/* generate.c */
gboolean app_send(App *app); /* FALSE: refused to start (the reason is in the window) */
void app_stop(App *app);
void app_clear(App *app);
gboolean app_running(const App *app);
void app_join_worker(App *app);

/* token_view.c */
void token_view_setup(App *app);
void token_view_append(App *app, const char *text, int len, GtkTextTag *tag);
void token_view_append_token(App *app, const Msg *msg);
void token_view_clear(App *app);
char *token_view_describe(const App *app, int i); /* the hover tooltip of token i (markup) */
void token_rec_free_strings(TokenRec *rec);

/* main.c: the scripted run */
void script_model_loaded(App *app, gboolean ok);
void script_generation_done(App *app, const Msg *end);
void script_first_token(App *app);
void script_send_failed(App *app);

#endif
