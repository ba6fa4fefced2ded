// Streams a completion with per-token probabilities through inkling's C ABI (cgo).
// Build: CGO_CFLAGS=-I<inkling>/capi CGO_LDFLAGS="-L<libdir> -linkling" go build
// Usage: stream [MODEL.gguf [PROMPT]] (no model: the repository's models/stories260K.gguf)
package main

/*
#cgo LDFLAGS: -linkling
#include <stdlib.h>
#include <inkling.h>

extern int goOnStep(ink_step *step, void *user_data);

// cgo cannot pass a Go function as a C function pointer: this C shim forwards to it.
static int on_step_shim(const ink_step *step, void *user_data) {
	return goOnStep((ink_step *)step, user_data);
}
static ink_status generate(ink_generator *gen, const char *prompt, size_t len, void *user) {
	return ink_generate(gen, prompt, len, on_step_shim, user);
}
*/
import "C"

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/cgo"
	"unsafe"
)

type stream struct {
	tokens int
	probs  float64
}

//export goOnStep
func goOnStep(step *C.ink_step, user unsafe.Pointer) C.int {
	s := cgo.Handle(*(*C.uintptr_t)(user)).Value().(*stream)
	fmt.Print(C.GoStringN(step.text, C.int(step.text_len)))
	s.tokens++
	s.probs += float64(step.raw_prob)
	return 1 // 0 would cancel
}

// defaultModel is the repository's small model, found from this source file's place
// (examples/go), so `go run .` works from any directory of a checkout.
func defaultModel() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("..", "..", "models", "stories260K.gguf")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "models", "stories260K.gguf")
}

func lastError() string { return C.GoString(C.ink_last_error()) }

func main() {
	modelPath := defaultModel()
	if len(os.Args) > 1 {
		modelPath = os.Args[1]
	} else {
		fmt.Fprintln(os.Stderr, "no model given, using", modelPath)
	}
	prompt := "Once upon a time"
	if len(os.Args) > 2 {
		prompt = os.Args[2]
	}
	path := C.CString(modelPath)
	defer C.free(unsafe.Pointer(path))
	var model *C.ink_model
	if C.ink_model_load(path, nil, &model) != C.INK_OK {
		fmt.Fprintln(os.Stderr, "error:", lastError())
		os.Exit(1)
	}
	defer C.ink_model_free(model)

	params := C.ink_generator_params_default()
	params.max_new_tokens = 40
	params.temperature = 0 // greedy: reproducible
	var gen *C.ink_generator
	if C.ink_generator_create(model, &params, &gen) != C.INK_OK {
		fmt.Fprintln(os.Stderr, "error:", lastError())
		os.Exit(1)
	}
	defer C.ink_generator_free(gen)

	s := &stream{}
	handle := cgo.NewHandle(s)
	defer handle.Delete()
	user := (*C.uintptr_t)(C.malloc(C.size_t(unsafe.Sizeof(C.uintptr_t(0)))))
	defer C.free(unsafe.Pointer(user))
	*user = C.uintptr_t(handle)

	cPrompt := C.CString(prompt)
	defer C.free(unsafe.Pointer(cPrompt))
	fmt.Print(prompt)
	if C.generate(gen, cPrompt, C.size_t(len(prompt)), unsafe.Pointer(user)) != C.INK_OK {
		fmt.Fprintln(os.Stderr, "\nerror:", lastError())
		os.Exit(1)
	}
	fmt.Printf("\n%d tokens, mean probability %.3f\n", s.tokens, s.probs/float64(max(s.tokens, 1)))
}

func max(a, b int) int {
	if a > b {
		return a
	}
	return b
}
