//! `mingpian qr encode|decode`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Subcommand;
use mingpian_card::qr::image as qr_image;
use serde::Serialize;

use crate::Outcome;
use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum QrCommand {
    /// Write TEXT as a QR code picture (PNG or SVG, by the output's extension).
    Encode {
        text: String,
        #[arg(short, long)]
        output: PathBuf,
        /// Pixels per module, for PNG.
        #[arg(long, default_value_t = 8)]
        scale: u32,
    },
    /// Print the text of every QR code in each image; exit 1 when an image has none.
    Decode {
        #[arg(required = true)]
        images: Vec<PathBuf>,
    },
}

pub fn run(command: QrCommand, out: &Output) -> anyhow::Result<Outcome> {
    match command {
        QrCommand::Encode {
            text,
            output,
            scale,
        } => encode(&text, &output, scale, out),
        QrCommand::Decode { images } => decode(&images, out),
    }
}

fn encode(text: &str, output: &Path, scale: u32, out: &Output) -> anyhow::Result<Outcome> {
    let ext = output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let bytes = match ext.as_deref() {
        Some("png") => qr_image::encode_png(text, scale)?,
        Some("svg") => qr_image::encode_svg(text)?.into_bytes(),
        _ => bail!("{}: the output must end in .png or .svg", output.display()),
    };
    std::fs::write(output, &bytes).with_context(|| format!("writing {}", output.display()))?;
    if out.json() {
        out.value(
            &serde_json::json!({ "output": output.display().to_string(), "bytes": bytes.len() }),
        )?;
    } else {
        out.line(format!("wrote {}", output.display()))?;
    }
    Ok(Outcome::Ok)
}

#[derive(Debug, Serialize)]
struct Decoded {
    image: String,
    texts: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn decode(images: &[PathBuf], out: &Output) -> anyhow::Result<Outcome> {
    let mut results = Vec::new();
    let mut incomplete = false;
    for path in images {
        let image = path.display().to_string();
        let decoded = std::fs::read(path)
            .map_err(|e| format!("cannot read the file: {e}"))
            .and_then(|bytes| qr_image::decode(&bytes).map_err(|e| e.to_string()));
        let result = match decoded {
            Ok(texts) => Decoded {
                image,
                texts,
                error: None,
            },
            Err(error) => Decoded {
                image,
                texts: Vec::new(),
                error: Some(error),
            },
        };
        incomplete |= result.texts.is_empty();
        if !out.json() {
            match (&result.error, result.texts.as_slice()) {
                (Some(error), _) => eprintln!("mingpian: {}: {error}", result.image),
                (None, []) => eprintln!("mingpian: {}: no QR code found", result.image),
                (None, [only]) if images.len() == 1 => out.line(only)?,
                (None, texts) => {
                    for text in texts {
                        out.line(format!("{}: {text}", result.image))?;
                    }
                }
            }
        }
        results.push(result);
    }
    if out.json() {
        out.one_or_many(results)?;
    }
    Ok(if incomplete {
        Outcome::Problems
    } else {
        Outcome::Ok
    })
}
