//! Declarations matching capi/inkling.h (the parts this example uses), kept by hand:
//! `check_layout` compares them with the library's own sizes at start-up, so a field
//! added to the C struct and not here fails the example (and its ctest) instead of
//! silently shifting every later field.
#![allow(non_camel_case_types, dead_code)]

use std::os::raw::{c_char, c_int, c_void};

pub type ink_status = c_int;
pub const INK_OK: ink_status = 0;
pub const INK_MAX_ALTERNATIVES: usize = 16;

#[repr(C)]
pub struct ink_model {
    _private: [u8; 0],
}
#[repr(C)]
pub struct ink_generator {
    _private: [u8; 0],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct ink_generator_params {
    pub struct_size: u32,
    pub max_new_tokens: i32,
    pub min_new_tokens: i32,
    pub n_ctx: i32,
    pub temperature: f32,
    pub top_k: i32,
    pub top_p: f32,
    pub min_p: f32,
    pub typical_p: f32,
    pub repeat_penalty: f32,
    pub presence_penalty: f32,
    pub frequency_penalty: f32,
    pub penalty_window: i32,
    pub seed: u64,
    pub num_beams: i32,
    pub length_penalty: f32,
    pub num_return_sequences: i32,
    pub top_n_alternatives: i32,
    pub stop_at_eog: i32,
    pub context_full_is_error: i32,
    pub stop_strings: *const *const c_char,
    pub n_stop_strings: usize,
    pub stop_tokens: *const i32,
    pub n_stop_tokens: usize,
    pub logit_bias_tokens: *const i32,
    pub logit_bias_values: *const f32,
    pub n_logit_bias: usize,
    pub kv_f16: i32,
    pub memory_budget: u64,
    pub lookup_draft: i32,
    pub draft_model: *const c_void,
    pub draft_tokens: i32,
    pub draft_p_min: f32,
    pub kv_q8_0: i32,
    pub mirostat: i32,
    pub mirostat_tau: f32,
    pub mirostat_eta: f32,
    pub mirostat_m: i32,
    pub dry_multiplier: f32,
    pub dry_base: f32,
    pub dry_allowed_length: i32,
    pub dry_penalty_last_n: i32,
    pub dry_sequence_breakers: *const *const c_char,
    pub n_dry_sequence_breakers: usize,
    pub xtc_probability: f32,
    pub xtc_threshold: f32,
    pub top_n_sigma: f32,
    pub samplers: *const c_char,
    pub context_shift: i32,
    pub n_keep: i32,
    pub grammar: *const c_char,
    pub json_schema: *const c_char,
    pub json_whitespace_flexible: i32,
    pub rope_scale: f32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct ink_alternative {
    pub token: i32,
    pub prob: f32,
    pub logprob: f32,
    pub text: *const c_char,
    pub text_len: usize,
}

#[repr(C)]
pub struct ink_step {
    pub struct_size: u32,
    pub done: i32,
    pub stop_reason: c_int,
    pub index: i32,
    pub token: i32,
    pub text: *const c_char,
    pub text_len: usize,
    pub prob: f32,
    pub logprob: f32,
    pub raw_prob: f32,
    pub raw_logprob: f32,
    pub entropy: f32,
    pub ms_since_prev: f64,
    pub n_alternatives: i32,
    pub alternatives: [ink_alternative; INK_MAX_ALTERNATIVES],
    pub n_raw_alternatives: i32,
    pub raw_alternatives: [ink_alternative; INK_MAX_ALTERNATIVES],
}

pub type ink_step_callback = extern "C" fn(step: *const ink_step, user_data: *mut c_void) -> c_int;

extern "C" {
    pub fn ink_version() -> *const c_char;
    pub fn ink_last_error() -> *const c_char;
    pub fn ink_model_load(path: *const c_char, params: *const c_void, out: *mut *mut ink_model) -> ink_status;
    pub fn ink_model_free(model: *mut ink_model);
    pub fn ink_generator_params_default() -> ink_generator_params;
    pub fn ink_generator_create(
        model: *const ink_model,
        params: *const ink_generator_params,
        out: *mut *mut ink_generator,
    ) -> ink_status;
    pub fn ink_generator_free(gen: *mut ink_generator);
    pub fn ink_generate(
        gen: *mut ink_generator,
        prompt: *const c_char,
        len: usize,
        callback: Option<ink_step_callback>,
        user_data: *mut c_void,
    ) -> ink_status;
    pub fn ink_generator_stop_reason(gen: *const ink_generator) -> c_int;
}

/// Err naming the struct when a mirrored struct's size differs from the C library's.
pub fn check_layout() -> Result<(), String> {
    let c_size = unsafe { ink_generator_params_default() }.struct_size as usize;
    let rust_size = std::mem::size_of::<ink_generator_params>();
    if c_size != rust_size {
        return Err(format!(
            "ffi.rs is out of date: ink_generator_params is {c_size} bytes in the C library, {rust_size} here"
        ));
    }
    Ok(())
}
