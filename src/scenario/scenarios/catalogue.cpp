// The catalogue: every scenario in the order users see them.
#include "scenario/scenarios/common.hpp"

namespace bootrig {

const std::vector<std::unique_ptr<Scenario>>& all_scenarios() {
  static const std::vector<std::unique_ptr<Scenario>> all = [] {
    using namespace scenarios;
    std::vector<std::unique_ptr<Scenario>> v;
    v.push_back(make_normal_boot());
    v.push_back(make_safeboot_window1());
    v.push_back(make_safeboot_window2());
    v.push_back(make_safeboot_factory());
    v.push_back(make_safeboot_not_persistent());
    v.push_back(make_soft_reset_ctrl_d());
    v.push_back(make_soft_reset_sys_exit());
    v.push_back(make_hard_reset_pin());
    v.push_back(make_hard_reset_machine());
    v.push_back(make_factory_reset());
    v.push_back(make_recover_stuck_main());
    v.push_back(make_ota_rollback_invalid());
    v.push_back(make_ota_broken_recover());
    return v;
  }();
  return all;
}

Scenario* find_scenario(const std::string& name) {
  for (const auto& s : all_scenarios())
    if (s->info().name == name) return s.get();
  return nullptr;
}

}  // namespace bootrig
