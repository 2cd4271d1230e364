/**
 * micro:bit ML kiosk: the program a board runs to talk to the kiosk over Bluetooth.
 *
 * - Starts the accelerometer, button and LED Bluetooth services. The kiosk
 *   sets the accelerometer period to 20 ms itself and writes the recognised
 *   action's icon to the LED matrix.
 * - Needs no pairing (see pxt.json: "No Pairing Required").
 * - Shows its pairing pattern while nothing is connected, so a visitor can
 *   copy the five column heights to the kiosk's screen, and a happy face
 *   while the kiosk is connected.
 */

// The board's 5-letter name, letter by letter, as column heights 1..5:
// columns 0, 2, 4 use ZVGPT, columns 1, 3 use UOIEA (the runtime's codebook).
const EVEN_COLUMN_LETTERS = "zvgpt"
const ODD_COLUMN_LETTERS = "uoiea"

function showPairingPattern(): void {
    const name = control.deviceName()
    basic.clearScreen()
    for (let column = 0; column < 5; column++) {
        const letters = column % 2 == 0 ? EVEN_COLUMN_LETTERS : ODD_COLUMN_LETTERS
        const height = letters.indexOf(name.charAt(column)) + 1
        for (let row = 0; row < height; row++) {
            led.plot(column, 4 - row)
        }
    }
}

bluetooth.onBluetoothConnected(function () {
    basic.showIcon(IconNames.Happy)
})

bluetooth.onBluetoothDisconnected(function () {
    showPairingPattern()
})

input.setAccelerometerRange(AcceleratorRange.TwoG)
bluetooth.startAccelerometerService()
bluetooth.startButtonService()
bluetooth.startLEDService()
showPairingPattern()
