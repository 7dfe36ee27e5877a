package cn.mingpian.device

import android.app.Activity
import android.content.Intent
import android.os.Build
import android.view.HapticFeedbackConstants
import android.view.WindowManager
import androidx.core.content.FileProvider
import app.tauri.annotation.Command
import app.tauri.annotation.InvokeArg
import app.tauri.annotation.TauriPlugin
import app.tauri.plugin.Invoke
import app.tauri.plugin.Plugin
import java.io.File

/** Declared in this library's manifest for files under the cache's share/ folder. */
class ShareFileProvider : FileProvider()

@InvokeArg
class ShareArgs {
    var path: String? = null
    var mime: String? = null
    var text: String? = null
    var title: String? = null
}

/**
 * The phone's own side of Mingpian (see `src/lib.rs`). Window and activity changes happen on the
 * UI thread.
 */
@TauriPlugin
class DevicePlugin(private val activity: Activity) : Plugin(activity) {
    /**
     * While the user shows their QR code: the screen stays on and goes to full brightness, so the
     * other phone's camera reads it at once, even in sunlight.
     */
    @Command
    fun keepAwake(invoke: Invoke) = setScreen(invoke, showingCode = true)

    /**
     * Gives back the user's own brightness (the window's override is removed, so the system
     * setting applies again) and lets the screen sleep.
     */
    @Command
    fun release(invoke: Invoke) = setScreen(invoke, showingCode = false)

    private fun setScreen(invoke: Invoke, showingCode: Boolean) {
        activity.runOnUiThread {
            val window = activity.window
            val keepOn = WindowManager.LayoutParams.FLAG_KEEP_SCREEN_ON
            if (showingCode) window.addFlags(keepOn) else window.clearFlags(keepOn)
            val params = window.attributes
            params.screenBrightness = if (showingCode) {
                WindowManager.LayoutParams.BRIGHTNESS_OVERRIDE_FULL
            } else {
                WindowManager.LayoutParams.BRIGHTNESS_OVERRIDE_NONE
            }
            window.attributes = params
            invoke.resolve()
        }
    }

    /**
     * The system share sheet for a file in a folder of the cache's share/ folder (through
     * ShareFileProvider, read-only) and/or a text.
     */
    @Command
    fun share(invoke: Invoke) {
        val args = invoke.parseArgs(ShareArgs::class.java)
        activity.runOnUiThread {
            try {
                val intent = Intent(Intent.ACTION_SEND)
                val path = args.path
                if (path != null) {
                    // Only `cache/share/{one folder per share}/{file}` (see files.rs).
                    val shareDir = File(activity.cacheDir, "share").canonicalFile
                    val file = File(path).canonicalFile
                    if (file.parentFile?.parentFile != shareDir) {
                        invoke.reject("only files in the share folder can be shared")
                        return@runOnUiThread
                    }
                    val uri = FileProvider.getUriForFile(
                        activity, activity.packageName + ".mingpian.share", file
                    )
                    intent.type = args.mime ?: "application/octet-stream"
                    intent.putExtra(Intent.EXTRA_STREAM, uri)
                    intent.addFlags(Intent.FLAG_GRANT_READ_URI_PERMISSION)
                } else {
                    intent.type = "text/plain"
                }
                args.text?.let { intent.putExtra(Intent.EXTRA_TEXT, it) }
                args.title?.let { intent.putExtra(Intent.EXTRA_TITLE, it) }
                activity.startActivity(Intent.createChooser(intent, args.title))
                invoke.resolve()
            } catch (e: Exception) {
                invoke.reject(e.message ?: "could not open the share sheet")
            }
        }
    }

    /** One short confirming tap; no VIBRATE permission needed for the view's haptics. */
    @Command
    fun haptic(invoke: Invoke) {
        activity.runOnUiThread {
            val effect = if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
                HapticFeedbackConstants.CONFIRM
            } else {
                HapticFeedbackConstants.LONG_PRESS
            }
            activity.window.decorView.performHapticFeedback(effect)
            invoke.resolve()
        }
    }
}
