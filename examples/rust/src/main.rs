//! Streams a completion with per-token probabilities through inkling's C ABI, wrapped
//! in a small safe Rust API (owned handles freed on drop, errors as Result).
//! Usage: inkling-example [MODEL.gguf [PROMPT]] (no model: the repository's models/stories260K.gguf)

mod ffi;

use std::ffi::{c_void, CStr, CString};
use std::io::Write;

struct Model(*mut ffi::ink_model);
struct Generator(*mut ffi::ink_generator);

fn last_error() -> String {
    unsafe { CStr::from_ptr(ffi::ink_last_error()).to_string_lossy().into_owned() }
}

impl Model {
    fn load(path: &str) -> Result<Model, String> {
        let c_path = CString::new(path).map_err(|e| e.to_string())?;
        let mut out = std::ptr::null_mut();
        let status = unsafe { ffi::ink_model_load(c_path.as_ptr(), std::ptr::null(), &mut out) };
        if status == ffi::INK_OK { Ok(Model(out)) } else { Err(last_error()) }
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        unsafe { ffi::ink_model_free(self.0) }
    }
}

impl Generator {
    fn new(model: &Model, max_tokens: i32) -> Result<Generator, String> {
        let mut params = unsafe { ffi::ink_generator_params_default() };
        params.max_new_tokens = max_tokens;
        params.temperature = 0.0; // greedy: reproducible
        params.top_n_alternatives = 3;
        let mut out = std::ptr::null_mut();
        let status = unsafe { ffi::ink_generator_create(model.0, &params, &mut out) };
        if status == ffi::INK_OK { Ok(Generator(out)) } else { Err(last_error()) }
    }

    /// Calls `on_token(text, probability)` for every token; returning false cancels.
    fn generate<F: FnMut(&str, f32) -> bool>(&mut self, prompt: &str, mut on_token: F) -> Result<(), String> {
        extern "C" fn trampoline<F: FnMut(&str, f32) -> bool>(step: *const ffi::ink_step, user: *mut c_void) -> i32 {
            let (step, f) = unsafe { (&*step, &mut *(user as *mut F)) };
            let bytes = unsafe { std::slice::from_raw_parts(step.text as *const u8, step.text_len) };
            f(std::str::from_utf8(bytes).unwrap_or("\u{FFFD}"), step.raw_prob) as i32
        }
        let status = unsafe {
            ffi::ink_generate(
                self.0,
                prompt.as_ptr() as *const _,
                prompt.len(),
                Some(trampoline::<F>),
                &mut on_token as *mut F as *mut c_void,
            )
        };
        if status == ffi::INK_OK { Ok(()) } else { Err(last_error()) }
    }
}

impl Drop for Generator {
    fn drop(&mut self) {
        unsafe { ffi::ink_generator_free(self.0) }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Without a model argument: the repository's small default model.
    let default_model = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/stories260K.gguf");
    let model_path = args.get(1).map(String::as_str).unwrap_or_else(|| {
        eprintln!("no model given, using {default_model}");
        default_model
    });
    let prompt = args.get(2).map(String::as_str).unwrap_or("Once upon a time");
    let version = unsafe { CStr::from_ptr(ffi::ink_version()) }.to_string_lossy();
    eprintln!("inkling {version}");
    let run = || -> Result<(), String> {
        ffi::check_layout()?;
        let model = Model::load(model_path)?;
        let mut generator = Generator::new(&model, 40)?;
        let mut probs = Vec::new();
        print!("{prompt}");
        generator.generate(prompt, |text, p| {
            print!("{text}");
            std::io::stdout().flush().ok();
            probs.push(p);
            true
        })?;
        let mean = probs.iter().sum::<f32>() / probs.len().max(1) as f32;
        println!("\n{} tokens, mean probability {:.3}", probs.len(), mean);
        Ok(())
    };
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
