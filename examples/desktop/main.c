/* inkling-desktop: pick a GGUF model, type a prompt or chat, and watch the reply stream in
 * with each token coloured by its probability. Built on inkling's C ABI only.
 *
 * The command-line options drive the same actions a user takes in the window (open a
 * file, type, press Send, press Stop), which is how the tests run the app under Xvfb:
 *   inkling-desktop --model M.gguf --prompt "Once upon a time" --max-tokens 60 \
 *                   --screenshot shot.png --quit-when-done
 * Each scripted step prints a line on stdout ("status: ...", "result: ...", "text: ...").
 */
#include "app.h"

#include <stdio.h>
#include <string.h>

static const char *stop_name(ink_stop_reason r) {
  static const char *const names[] = {"none", "max_tokens", "end_of_sequence", "stop_string",
                                      "stop_token", "context_full", "cancelled"};
  return (unsigned)r < G_N_ELEMENTS(names) ? names[r] : "unknown";
}

/* ---- screenshot --------------------------------------------------------------------- */

/* Renders the window with its own renderer (cairo under Xvfb) into a PNG. */
static gboolean save_png(App *app, const char *file) {
  GtkWidget *w = app->window;
  int width = gtk_widget_get_width(w), height = gtk_widget_get_height(w);
  GdkPaintable *paintable = gtk_widget_paintable_new(w);
  GtkSnapshot *snap = gtk_snapshot_new();
  gdk_paintable_snapshot(paintable, snap, width, height);
  GskRenderNode *node = gtk_snapshot_free_to_node(snap);
  gboolean ok = FALSE;
  if (node) {
    GskRenderer *renderer = gtk_native_get_renderer(GTK_NATIVE(w));
    GdkTexture *tex = gsk_renderer_render_texture(renderer, node, &GRAPHENE_RECT_INIT(0, 0, width, height));
    ok = gdk_texture_save_to_png(tex, file);
    g_object_unref(tex);
    gsk_render_node_unref(node);
  }
  g_object_unref(paintable);
  printf("screenshot: %s %dx%d %s\n", file, width, height, ok ? "saved" : "FAILED");
  fflush(stdout);
  return ok;
}

static void script_quit(App *app) {
  if (app->opt.quit_when_done) g_application_quit(G_APPLICATION(app->gtk));
}

static int frames_left;

/* A few frames after the end, so the last tokens are laid out and drawn. */
static gboolean screenshot_tick(GtkWidget *widget, GdkFrameClock *clock, gpointer data) {
  (void)widget;
  (void)clock;
  App *app = data;
  if (--frames_left > 0) return G_SOURCE_CONTINUE;
  if (!save_png(app, app->opt.screenshot)) app->exit_status = 1;
  script_quit(app);
  return G_SOURCE_REMOVE;
}

static void script_end(App *app, int status) {
  app->exit_status = status;
  if (app->opt.screenshot) {
    frames_left = 3;
    gtk_widget_queue_draw(app->window);
    gtk_widget_add_tick_callback(app->window, screenshot_tick, app, NULL);
  } else {
    script_quit(app);
  }
}

/* ---- the scripted run ----------------------------------------------------------------- */

/* What a mouse click on the button does (nothing when the button is insensitive). */
static void click(GtkWidget *button) {
  if (gtk_widget_is_sensitive(button)) g_signal_emit_by_name(button, "clicked");
}

void script_model_loaded(App *app, gboolean ok) {
  printf("status: %s\n", gtk_label_get_text(GTK_LABEL(app->status_label)));
  fflush(stdout);
  char **models = app->opt.models;
  if (models && models[app->next_model]) { /* the next file, as if picked after this one */
    app_open_model(app, models[app->next_model++]);
    return;
  }
  if (ok && app->opt.prompt && !app->script_sent) {
    app->script_sent = TRUE;
    gtk_text_buffer_set_text(gtk_text_view_get_buffer(GTK_TEXT_VIEW(app->prompt_view)), app->opt.prompt, -1);
    click(app->send_button);
    return;
  }
  if (models) script_end(app, ok ? 0 : 1);
}

/* Send refused to start (the reason is in the window). */
void script_send_failed(App *app) {
  if (!app->script_sent) return;
  printf("status: %s\n", gtk_label_get_text(GTK_LABEL(app->status_label)));
  fflush(stdout);
  script_end(app, 1);
}

static gboolean press_stop(gpointer data) {
  App *app = data;
  app->stop_timer = 0;
  printf("pressing Stop after %d tokens\n", app->n_received);
  fflush(stdout);
  click(app->stop_button);
  return G_SOURCE_REMOVE;
}

void script_first_token(App *app) {
  if (app->opt.stop_after_ms > 0 && app->script_sent && !app->stop_timer)
    app->stop_timer = g_timeout_add((guint)app->opt.stop_after_ms, press_stop, app);
}

void script_generation_done(App *app, const Msg *end) {
  if (app->stop_timer) g_source_remove(app->stop_timer);
  app->stop_timer = 0;
  if (!app->script_sent) return;
  const ink_metrics *m = &end->metrics;
  printf("status: %s\n", gtk_label_get_text(GTK_LABEL(app->status_label)));
  printf("result: stop=%s tokens=%d received=%d prompt_tokens=%d ttft_ms=%.2f tokens_per_s=%.1f peak_rss=%llu\n",
         stop_name(end->stop_reason), m->gen_tokens, app->n_received, m->prompt_tokens, m->ttft_ms, m->gen_tps,
         (unsigned long long)m->peak_rss);
  printf("metrics: %s\n", gtk_label_get_text(GTK_LABEL(app->metrics_label)));
  printf("text: %s\n", end->reply ? end->reply : "");
  if (app->opt.describe_token >= 0) {
    if ((guint)app->opt.describe_token < app->tokens->len) {
      char *markup = token_view_describe(app, app->opt.describe_token);
      printf("tooltip %d: %s\n", app->opt.describe_token, markup);
      g_free(markup);
    } else {
      printf("tooltip %d: no such token (%u tokens)\n", app->opt.describe_token, app->tokens->len);
    }
  }
  fflush(stdout);
  script_end(app, end->status == INK_OK ? 0 : 1);
}

/* ---- application ------------------------------------------------------------------------ */

static void on_activate(GtkApplication *gtk, gpointer data) {
  (void)gtk;
  App *app = data;
  if (app->window) {
    gtk_window_present(GTK_WINDOW(app->window));
    return;
  }
  app_build_window(app);
  gtk_window_present(GTK_WINDOW(app->window));
  if (app->opt.models && app->opt.models[0]) app_open_model(app, app->opt.models[app->next_model++]);
}

static void on_shutdown(GApplication *gapp, gpointer data) {
  (void)gapp;
  App *app = data;
  app_join_worker(app);
  ink_generator_free(app->gen);
  app->gen = NULL;
  ink_model_free(app->model);
  app->model = NULL;
}

static gboolean parse_options(int *argc, char ***argv, Options *o) {
  o->temperature = o->top_p = -1;
  o->top_k = -1;
  o->describe_token = -1;
  GOptionEntry entries[] = {
      {"model", 'm', 0, G_OPTION_ARG_FILENAME_ARRAY, &o->models, "Open this GGUF file (repeat: opened in turn)", "FILE"},
      {"prompt", 'p', 0, G_OPTION_ARG_STRING, &o->prompt, "Send this prompt once the model is loaded", "TEXT"},
      {"max-tokens", 'n', 0, G_OPTION_ARG_INT, &o->max_tokens, "Maximum new tokens (default 200)", "N"},
      {"ctx", 0, 0, G_OPTION_ARG_INT, &o->ctx, "Context positions (default: the model's)", "N"},
      {"rope-scale", 0, 0, G_OPTION_ARG_DOUBLE, &o->rope_scale, "Stretch RoPE positions F times (ctx beyond training)", "F"},
      {"temperature", 0, 0, G_OPTION_ARG_DOUBLE, &o->temperature, "Temperature slider (default 0.8)", "T"},
      {"top-p", 0, 0, G_OPTION_ARG_DOUBLE, &o->top_p, "Top-p slider (default 0.95)", "P"},
      {"top-k", 0, 0, G_OPTION_ARG_INT, &o->top_k, "Top-k slider (default 40)", "K"},
      {"chat", 0, 0, G_OPTION_ARG_NONE, &o->chat, "Chat mode: the prompt is a user message", NULL},
      {"template", 0, 0, G_OPTION_ARG_STRING, &o->template_name, "Chat template (default: the model's)", "NAME"},
      {"screenshot", 0, 0, G_OPTION_ARG_FILENAME, &o->screenshot, "Save the window as PNG once generation ends", "FILE"},
      {"quit-when-done", 0, 0, G_OPTION_ARG_NONE, &o->quit_when_done, "Quit once generation ends", NULL},
      {"stop-after-ms", 0, 0, G_OPTION_ARG_INT, &o->stop_after_ms, "Press Stop this long after the first token", "MS"},
      {"describe-token", 0, 0, G_OPTION_ARG_INT, &o->describe_token, "Print what hovering token N shows, at the end", "N"},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  GOptionContext *ctx = g_option_context_new("- watch a language model write, token by token");
  g_option_context_add_main_entries(ctx, entries, NULL);
  GError *err = NULL;
  gboolean ok = g_option_context_parse(ctx, argc, argv, &err);
  if (!ok) {
    fprintf(stderr, "inkling-desktop: %s\n", err->message);
    g_error_free(err);
  } else if (o->template_name && !o->chat) {
    fprintf(stderr, "inkling-desktop: --template needs --chat\n");
    ok = FALSE;
  } else if ((o->stop_after_ms > 0 || o->quit_when_done || o->screenshot || o->describe_token >= 0) && !o->models) {
    fprintf(stderr, "inkling-desktop: --screenshot, --quit-when-done, --stop-after-ms and --describe-token need --model\n");
    ok = FALSE;
  }
  g_option_context_free(ctx);
  return ok;
}

int main(int argc, char **argv) {
  App app;
  memset(&app, 0, sizeof app);
  if (!parse_options(&argc, &argv, &app.opt)) return 2;
  if (ink_version_number() != INK_VERSION_NUMBER)
    fprintf(stderr, "inkling-desktop: built against inkling %d, running with %s\n", INK_VERSION_NUMBER, ink_version());
  app.tokens = g_array_new(FALSE, TRUE, sizeof(TokenRec));
  app.chat_roles = g_ptr_array_new_with_free_func(g_free);
  app.chat_texts = g_ptr_array_new_with_free_func(g_free);
  g_mutex_init(&app.chan.lock);
  app.chan.pending = g_ptr_array_new();
  app.chan.app = &app;
  app.gtk = gtk_application_new("org.inkling.Desktop", G_APPLICATION_NON_UNIQUE);
  g_signal_connect(app.gtk, "activate", G_CALLBACK(on_activate), &app);
  g_signal_connect(app.gtk, "shutdown", G_CALLBACK(on_shutdown), &app);
  char *args[] = {argv[0], NULL};
  int status = g_application_run(G_APPLICATION(app.gtk), 1, args);
  g_object_unref(app.gtk);
  for (guint i = 0; i < app.tokens->len; ++i) token_rec_free_strings(&g_array_index(app.tokens, TokenRec, i));
  g_array_free(app.tokens, TRUE);
  g_ptr_array_free(app.chat_roles, TRUE);
  g_ptr_array_free(app.chat_texts, TRUE);
  g_ptr_array_free(app.chan.pending, TRUE);
  g_mutex_clear(&app.chan.lock);
  g_free(app.model_path);
  g_free(app.gen_template);
  return status != 0 ? status : app.exit_status;
}
