# Reporting why the module started, as deployed devices log it.
import machine

CAUSES = {
    machine.PWRON_RESET: 'power on',
    machine.HARD_RESET: 'hard reset',
    machine.WDT_RESET: 'watchdog',
    machine.DEEPSLEEP_RESET: 'deep sleep',
    machine.SOFT_RESET: 'soft reset',
    machine.BROWN_OUT_RESET: 'brown out',
}
print('reset cause:', CAUSES.get(machine.reset_cause(), 'unknown'))
print('wake reason:', machine.wake_reason()[0] == machine.PWRON_WAKE)
