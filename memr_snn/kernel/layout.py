"""Literal constants shared by the kernels and the engine that builds their arrays.

The engine describes every distinct neuron parameter set ("group") by one row of
a float64 coefficient table ``gc[n_groups, N_COEF]`` plus an int64 row
``gi[n_groups, N_ICOEF]``; each neuron carries the index of its group.  The
columns are listed here once.  Kernels read only these literals as globals.
"""

__all__ = [
    "T_LIF", "T_ALIF", "T_COND", "T_INPUT", "T_TSM", "T_COND_EULER",
    "C_PM", "C_PE", "C_PI", "C_PA", "C_LPM", "C_LPE", "C_LPI", "C_LPA",
    "C_R", "C_VREST", "C_VRESET", "C_VTH", "C_BETA", "C_CE1", "C_CI1",
    "C_DE", "C_DI", "C_DTTM", "C_KE", "C_KI", "C_GL", "C_EE", "C_EI", "C_CM", "C_DT",
    "C_PM_ON", "C_CE1_ON", "C_CI1_ON", "C_R_ON", "C_VHOLD", "C_EULER",
    "N_COEF", "I_TYPE", "I_REF", "N_ICOEF",
    "V_V", "V_SE", "V_SI", "V_A", "V_IB",
    "IDLE_MARGIN",
]

# neuron types
T_LIF = 0     # LIF, current-based exponential synapses (linear: exact, lazy-capable)
T_ALIF = 1    # LIF + threshold adaptation (linear: exact, lazy-capable)
T_COND = 2    # LIF, conductance-based synapses (clock-driven only)
T_INPUT = 3   # spike generator: never integrated
T_TSM = 4     # threshold-switching-memristor neuron: two linear phases (clock-driven only)
T_COND_EULER = 5  # T_COND integrated with forward Euler (LIFCondParams(integration="euler"); clock-driven only)

# float coefficient columns
C_PM = 0      # exp(-dt/tau_mem)
C_PE = 1      # exp(-dt/tau_syn_e)
C_PI = 2      # exp(-dt/tau_syn_i)
C_PA = 3      # exp(-dt/tau_adapt)  (1 for types without adaptation)
C_LPM = 4     # -dt/tau_mem         (log of C_PM, for k-step closed forms)
C_LPE = 5     # -dt/tau_syn_e
C_LPI = 6     # -dt/tau_syn_i
C_LPA = 7     # -dt/tau_adapt (0 without adaptation)
C_R = 8       # tau_mem / c_mem [Ohm]
C_VREST = 9   # [V]
C_VRESET = 10  # [V]
C_VTH = 11    # [V]
C_BETA = 12   # [V] threshold increase per unit adaptation (0 without)
C_CE1 = 13    # one-step coupling i_e -> v [Ohm]
C_CI1 = 14    # one-step coupling i_i -> v [Ohm]
C_DE = 15     # dt (1/tau_mem - 1/tau_syn_e): rate gap of the i_e -> v coupling
C_DI = 16     # dt (1/tau_mem - 1/tau_syn_i)
C_DTTM = 17   # dt / tau_mem
C_KE = 18     # R * peak of the unit-current PSP shape (bounds future v) [Ohm]
C_KI = 19     # same for the inhibitory current [Ohm]
C_GL = 20     # leak conductance c_mem / tau_mem [S] (conductance-based)
C_EE = 21     # excitatory reversal potential [V] (conductance-based)
C_EI = 22     # inhibitory reversal potential [V] (conductance-based)
C_CM = 23     # membrane capacitance [F]
C_DT = 24     # dt [s]
# T_TSM only.  The OFF phase uses the columns above with tau_mem = r_off c_mem
# (C_PM, C_CE1, C_CI1, C_R = r_off, C_VTH = v_th, C_BETA = k_mod: the threshold
# is v_th + k_mod * c with c stored in ``a``); the ON phase uses these:
C_PM_ON = 25  # exp(-dt/tau_on), tau_on = r_on c_mem
C_CE1_ON = 26  # one-step coupling i_e -> v in the ON phase [Ohm]
C_CI1_ON = 27  # one-step coupling i_i -> v in the ON phase [Ohm]
C_R_ON = 28   # r_on [Ohm]
C_VHOLD = 29  # hold voltage: the device turns OFF when v falls below it [V]
# T_COND / T_COND_EULER: the integration method, 0.0 exponential Euler, 1.0 forward Euler (then C_PE,
# C_PI hold the forward-Euler decay factors 1 - dt/tau_syn instead of exp(-dt/tau_syn)); read by the
# numpy twin (the kernels are selected by the type code)
C_EULER = 30
N_COEF = 31

# integer coefficient columns
I_TYPE = 0    # one of T_*
I_REF = 1     # refractory period in steps
# T_TSM encodes its phase in the per-neuron ``ref`` counter: ref < 0 (= -1) the
# device is ON (conducting, the spike's falling phase); ref > 0 the device is OFF
# and may not switch ON for ref more steps; ref == 0 OFF and ready to switch.
N_ICOEF = 2

# recordable state variable codes
V_V = 0       # membrane potential
V_SE = 1      # excitatory synaptic state (i_e or g_e)
V_SI = 2      # inhibitory synaptic state (i_i or g_i)
V_A = 3       # adaptation variable
V_IB = 4      # bias current

# A linear neuron is left idle only if its provable upper bound on future v,
# without new input, stays this far below threshold [V].  It guards the proof
# against rounding (the bound is exact arithmetic, the steps are not).
IDLE_MARGIN = 1e-9
