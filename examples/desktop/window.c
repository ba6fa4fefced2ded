/* The window: model picker, settings, output, prompt, metrics; and model loading on a
 * worker thread (a large file takes seconds to map and check, the UI must not wait). */
#include "app.h"

#include <string.h>

void app_set_status(App *app, const char *text, gboolean is_error) {
  gtk_label_set_text(GTK_LABEL(app->status_label), text);
  if (is_error) gtk_widget_add_css_class(app->status_label, "status-error");
  else gtk_widget_remove_css_class(app->status_label, "status-error");
}

void app_update_sensitivity(App *app) {
  gboolean running = app_running(app), idle = !running && !app->loading;
  gtk_widget_set_sensitive(app->open_button, idle);
  gtk_widget_set_sensitive(app->send_button, idle && app->model != NULL);
  gtk_widget_set_sensitive(app->stop_button, running);
  gtk_widget_set_sensitive(app->clear_button, idle);
}

/* ---- loading a model ----------------------------------------------------------------- */

static void load_in_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel) {
  (void)source;
  (void)cancel;
  ink_model *model = NULL;
  ink_status st = ink_model_load(data, NULL, &model);
  if (st == INK_OK) g_task_return_pointer(task, model, (GDestroyNotify)ink_model_free);
  else g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s (%s)", ink_last_error(), ink_status_name(st));
}

static void describe_model(App *app) {
  ink_model_info info;
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  ink_model_info_get(app->model, &info);
  char *base = g_path_get_basename(app->model_path);
  char *s = g_strdup_printf("%s \u2014 %s, %d layers, %d dims, vocabulary %d, context %d, %.1f MB", base,
                            info.architecture, info.n_layer, info.n_embd, info.n_vocab, info.n_ctx_train,
                            info.weight_bytes / 1e6);
  gtk_label_set_text(GTK_LABEL(app->model_label), s);
  g_free(s);
  g_free(base);
}

static void on_loaded(GObject *source, GAsyncResult *res, gpointer data) {
  (void)source;
  App *app = data;
  GError *err = NULL;
  const char *path = g_task_get_task_data(G_TASK(res));
  ink_model *model = g_task_propagate_pointer(G_TASK(res), &err);
  app->loading = FALSE;
  if (model) { /* the new model replaces the old one (the generator belongs to the old) */
    ink_generator_free(app->gen);
    app->gen = NULL;
    ink_model_free(app->model);
    app->model = model;
    g_free(app->model_path);
    app->model_path = g_strdup(path);
    describe_model(app);
    app_set_status(app, "Model loaded. Type a prompt and press Send.", FALSE);
  } else { /* the library's message, in the window; whatever was loaded stays usable */
    char *s = g_strdup_printf("Could not open %s: %s", path, err->message);
    app_set_status(app, s, TRUE);
    g_free(s);
    g_error_free(err);
  }
  app_update_sensitivity(app);
  script_model_loaded(app, model != NULL);
}

void app_open_model(App *app, const char *path) {
  if (app->loading || app_running(app)) return;
  app->loading = TRUE;
  char *base = g_path_get_basename(path);
  char *s = g_strdup_printf("Loading %s\u2026", base);
  app_set_status(app, s, FALSE);
  g_free(s);
  g_free(base);
  app_update_sensitivity(app);
  GTask *task = g_task_new(NULL, NULL, on_loaded, app);
  g_task_set_task_data(task, g_strdup(path), g_free);
  g_task_run_in_thread(task, load_in_thread);
  g_object_unref(task);
}

static void on_file_chosen(GtkNativeDialog *dialog, int response, gpointer data) {
  App *app = data;
  if (response == GTK_RESPONSE_ACCEPT) {
    GFile *file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
    char *path = g_file_get_path(file);
    if (path) app_open_model(app, path);
    g_free(path);
    g_object_unref(file);
  }
  g_object_unref(dialog);
}

static void on_open(GtkButton *button, gpointer data) {
  (void)button;
  App *app = data;
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new("Open a GGUF model", GTK_WINDOW(app->window),
                                                             GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", "_Cancel");
  GtkFileFilter *gguf = gtk_file_filter_new(), *all = gtk_file_filter_new();
  gtk_file_filter_set_name(gguf, "GGUF models");
  gtk_file_filter_add_pattern(gguf, "*.gguf");
  gtk_file_filter_set_name(all, "All files");
  gtk_file_filter_add_pattern(all, "*");
  gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(dialog), gguf);
  gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(dialog), all);
  g_object_unref(gguf);
  g_object_unref(all);
  g_signal_connect(dialog, "response", G_CALLBACK(on_file_chosen), app);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(dialog));
}

/* ---- widgets ------------------------------------------------------------------------- */

static void on_send(GtkButton *b, gpointer app) {
  (void)b;
  if (!app_send(app)) script_send_failed(app);
}
static void on_stop(GtkButton *b, gpointer app) { (void)b; app_stop(app); }
static void on_clear(GtkButton *b, gpointer app) { (void)b; app_clear(app); }

static GtkWidget *labelled_scale(GtkWidget *box, const char *title, double min, double max, double step,
                                 double value, int digits) {
  GtkWidget *label = gtk_label_new(title);
  gtk_label_set_xalign(GTK_LABEL(label), 0);
  gtk_widget_add_css_class(label, "setting");
  GtkWidget *scale = gtk_scale_new_with_range(GTK_ORIENTATION_HORIZONTAL, min, max, step);
  gtk_range_set_value(GTK_RANGE(scale), value);
  gtk_scale_set_digits(GTK_SCALE(scale), digits);
  gtk_scale_set_draw_value(GTK_SCALE(scale), TRUE);
  gtk_scale_set_value_pos(GTK_SCALE(scale), GTK_POS_RIGHT);
  gtk_widget_set_size_request(scale, 200, -1);
  gtk_box_append(GTK_BOX(box), label);
  gtk_box_append(GTK_BOX(box), scale);
  return scale;
}

static GtkWidget *build_settings(App *app) {
  const Options *o = &app->opt;
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
  gtk_widget_add_css_class(box, "settings");
  app->temp_scale = labelled_scale(box, "Temperature (0 = greedy)", 0, 2, 0.05, o->temperature >= 0 ? o->temperature : 0.8, 2);
  app->top_p_scale = labelled_scale(box, "Top-p (1 = off)", 0.01, 1, 0.01, o->top_p >= 0 ? o->top_p : 0.95, 2);
  app->top_k_scale = labelled_scale(box, "Top-k (0 = off)", 0, 200, 1, o->top_k >= 0 ? o->top_k : 40, 0);
  GtkWidget *label = gtk_label_new("Max new tokens");
  gtk_label_set_xalign(GTK_LABEL(label), 0);
  app->max_spin = gtk_spin_button_new_with_range(1, 100000, 1);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(app->max_spin), o->max_tokens > 0 ? o->max_tokens : 200);
  gtk_box_append(GTK_BOX(box), label);
  gtk_box_append(GTK_BOX(box), app->max_spin);
  static const char *const modes[] = {"Complete the prompt", "Chat", NULL};
  static const char *const templates[] = {"model's template", "chatml", "llama2", "llama3", "mistral",
                                          "phi3", "gemma", "zephyr", NULL};
  app->mode_drop = gtk_drop_down_new_from_strings(modes);
  app->template_drop = gtk_drop_down_new_from_strings(templates);
  gtk_drop_down_set_selected(GTK_DROP_DOWN(app->mode_drop), o->chat ? 1 : 0);
  for (guint i = 1; o->template_name && templates[i]; ++i)
    if (strcmp(o->template_name, templates[i]) == 0) gtk_drop_down_set_selected(GTK_DROP_DOWN(app->template_drop), i);
  GtkWidget *mode_label = gtk_label_new("Mode"), *tmpl_label = gtk_label_new("Chat template");
  gtk_label_set_xalign(GTK_LABEL(mode_label), 0);
  gtk_label_set_xalign(GTK_LABEL(tmpl_label), 0);
  gtk_box_append(GTK_BOX(box), mode_label);
  gtk_box_append(GTK_BOX(box), app->mode_drop);
  gtk_box_append(GTK_BOX(box), tmpl_label);
  gtk_box_append(GTK_BOX(box), app->template_drop);
  return box;
}

static GtkWidget *scrolled(GtkWidget *child, int min_height) {
  GtkWidget *sw = gtk_scrolled_window_new();
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(sw), child);
  gtk_scrolled_window_set_min_content_height(GTK_SCROLLED_WINDOW(sw), min_height);
  gtk_widget_add_css_class(sw, "frame");
  return sw;
}

static GtkWidget *build_main_column(App *app) {
  GtkWidget *col = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
  app->output_view = gtk_text_view_new();
  gtk_text_view_set_editable(GTK_TEXT_VIEW(app->output_view), FALSE);
  gtk_text_view_set_wrap_mode(GTK_TEXT_VIEW(app->output_view), GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_monospace(GTK_TEXT_VIEW(app->output_view), TRUE);
  gtk_widget_add_css_class(app->output_view, "output");
  GtkWidget *out = scrolled(app->output_view, 260);
  gtk_widget_set_vexpand(out, TRUE);
  gtk_box_append(GTK_BOX(col), out);
  app->status_label = gtk_label_new("Open a GGUF model to begin.");
  gtk_label_set_xalign(GTK_LABEL(app->status_label), 0);
  gtk_label_set_wrap(GTK_LABEL(app->status_label), TRUE);
  gtk_label_set_selectable(GTK_LABEL(app->status_label), TRUE);
  gtk_box_append(GTK_BOX(col), app->status_label);
  app->prompt_view = gtk_text_view_new();
  gtk_text_view_set_wrap_mode(GTK_TEXT_VIEW(app->prompt_view), GTK_WRAP_WORD_CHAR);
  gtk_box_append(GTK_BOX(col), scrolled(app->prompt_view, 64));
  GtkWidget *buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
  app->send_button = gtk_button_new_with_label("Send");
  app->stop_button = gtk_button_new_with_label("Stop");
  app->clear_button = gtk_button_new_with_label("Clear");
  gtk_widget_add_css_class(app->send_button, "suggested-action");
  gtk_widget_add_css_class(app->stop_button, "destructive-action");
  g_signal_connect(app->send_button, "clicked", G_CALLBACK(on_send), app);
  g_signal_connect(app->stop_button, "clicked", G_CALLBACK(on_stop), app);
  g_signal_connect(app->clear_button, "clicked", G_CALLBACK(on_clear), app);
  gtk_box_append(GTK_BOX(buttons), app->send_button);
  gtk_box_append(GTK_BOX(buttons), app->stop_button);
  gtk_box_append(GTK_BOX(buttons), app->clear_button);
  gtk_box_append(GTK_BOX(col), buttons);
  app->metrics_label = gtk_label_new("");
  gtk_label_set_xalign(GTK_LABEL(app->metrics_label), 0);
  gtk_label_set_wrap(GTK_LABEL(app->metrics_label), TRUE);
  gtk_widget_add_css_class(app->metrics_label, "metrics");
  gtk_box_append(GTK_BOX(col), app->metrics_label);
  return col;
}

static void add_css(void) {
  GtkCssProvider *css = gtk_css_provider_new();
  gtk_css_provider_load_from_data(css,
                                  ".status-error { color: #b3261e; font-weight: bold; }\n"
                                  ".metrics { color: #45505c; font-size: 90%; }\n"
                                  ".settings { padding: 4px 8px; }\n"
                                  ".output { font-size: 110%; padding: 6px; }\n",
                                  -1);
  gtk_style_context_add_provider_for_display(gdk_display_get_default(), GTK_STYLE_PROVIDER(css),
                                             GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_object_unref(css);
}

void app_build_window(App *app) {
  add_css();
  app->window = gtk_application_window_new(app->gtk);
  gtk_window_set_title(GTK_WINDOW(app->window), "inkling");
  gtk_window_set_default_size(GTK_WINDOW(app->window), 980, 640);
  GtkWidget *root = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
  gtk_widget_set_margin_start(root, 10);
  gtk_widget_set_margin_end(root, 10);
  gtk_widget_set_margin_top(root, 10);
  gtk_widget_set_margin_bottom(root, 10);
  GtkWidget *top = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 10);
  app->open_button = gtk_button_new_with_label("Open model\u2026");
  g_signal_connect(app->open_button, "clicked", G_CALLBACK(on_open), app);
  app->model_label = gtk_label_new("no model");
  gtk_label_set_ellipsize(GTK_LABEL(app->model_label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_box_append(GTK_BOX(top), app->open_button);
  gtk_box_append(GTK_BOX(top), app->model_label);
  gtk_box_append(GTK_BOX(root), top);
  GtkWidget *body = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_set_vexpand(body, TRUE);
  GtkWidget *main_col = build_main_column(app);
  gtk_widget_set_hexpand(main_col, TRUE);
  gtk_box_append(GTK_BOX(body), build_settings(app));
  gtk_box_append(GTK_BOX(body), main_col);
  gtk_box_append(GTK_BOX(root), body);
  gtk_window_set_child(GTK_WINDOW(app->window), root);
  token_view_setup(app);
  app_update_sensitivity(app);
}
